using Microsoft.ML.Runtime;
using TorchSharp;

namespace Microsoft.ML.PTuning.Runtime;

/// <summary>
/// Turns the <see cref="PrefixTuningOptions.Device"/> option into a TorchSharp device; without one, the ML.NET context's
/// <c>GpuDeviceId</c> and <c>FallbackToCpu</c> decide, as they do for ML.NET's own TorchSharp trainers.
/// </summary>
internal static class DeviceSelection
{
    /// <summary>
    /// <paramref name="device"/> when set: "cpu", "cuda", "cuda:N". When null: the context's GPU (<c>MLContext.GpuDeviceId</c>
    /// = N gives cuda:N) or, with no GPU id, the CPU; a GPU id on a machine without CUDA falls back to the CPU only when
    /// <c>MLContext.FallbackToCpu</c> is true, and is an error otherwise. <paramref name="env"/> may be null (CPU).
    /// </summary>
    /// <exception cref="ArgumentException">The Device option is malformed, or names CUDA where there is none.</exception>
    /// <exception cref="InvalidOperationException">The context asks for a GPU that is not there, without FallbackToCpu.</exception>
    public static torch.Device Resolve(string? device, IHostEnvironment? env, Action<string>? log = null)
    {
        var context = env as IHostEnvironmentInternal;
        bool available = torch.cuda.is_available();
        var (type, index) = Choose(device, context?.GpuDeviceId, context?.FallbackToCpu ?? false, available,
            available ? torch.cuda.device_count() : 0, log);
        return type == DeviceType.CPU ? torch.CPU : index is int n ? new torch.Device(DeviceType.CUDA, n) : torch.CUDA;
    }

    /// <summary>The choice itself, over what the machine has (tests pass a machine with CUDA devices).</summary>
    internal static (DeviceType Type, int? Index) Choose(string? device, int? gpuDeviceId, bool fallbackToCpu, bool cudaAvailable,
        int cudaDeviceCount, Action<string>? log)
    {
        if (string.IsNullOrWhiteSpace(device))
            return FromContext(gpuDeviceId, fallbackToCpu, cudaAvailable, cudaDeviceCount, log);
        string value = device.Trim().ToLowerInvariant();
        if (value == "cpu")
            return (DeviceType.CPU, null);
        if (value == "cuda" || value.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!cudaAvailable)
            {
                throw new ArgumentException(
                    $"Device '{device}' was requested but CUDA is not available: reference TorchSharp-cuda-linux or TorchSharp-cuda-windows instead of TorchSharp-cpu, and check the GPU driver.",
                    nameof(PrefixTuningOptions.Device));
            }

            if (value == "cuda")
                return (DeviceType.CUDA, null);
            if (!int.TryParse(value.AsSpan(5), out int index) || index < 0 || index >= cudaDeviceCount)
                throw new ArgumentException($"Device '{device}': expected cuda:N with N between 0 and {cudaDeviceCount - 1}.", nameof(PrefixTuningOptions.Device));
            return (DeviceType.CUDA, index);
        }
        throw new ArgumentException($"Device '{device}' is not recognised: use null (the MLContext's GpuDeviceId), \"cpu\", \"cuda\" or \"cuda:N\".", nameof(PrefixTuningOptions.Device));
    }

    // ML.NET's TorchSharp trainers: a GPU id and CUDA → the GPU; no id → the CPU; an id without CUDA → the CPU if the
    // context allows the fallback, else an error. Unlike them, the id picks the device (they use the first GPU whatever it is).
    private static (DeviceType, int?) FromContext(int? gpuDeviceId, bool fallbackToCpu, bool cudaAvailable, int cudaDeviceCount, Action<string>? log)
    {
        if (gpuDeviceId is not int id)
            return (DeviceType.CPU, null);
        if (cudaAvailable && id >= 0 && id < cudaDeviceCount)
            return (DeviceType.CUDA, id);
        string why = cudaAvailable
            ? $"MLContext.GpuDeviceId is {id}, but this machine has CUDA devices 0 to {cudaDeviceCount - 1}"
            : $"MLContext.GpuDeviceId is {id}, but CUDA is not available (the app references TorchSharp-cpu, or no GPU driver is loaded)";
        if (!fallbackToCpu)
        {
            throw new InvalidOperationException(
                $"{why}, and MLContext.FallbackToCpu is false. Set FallbackToCpu = true to train on the CPU instead, " +
                "clear GpuDeviceId, or reference TorchSharp-cuda-linux / TorchSharp-cuda-windows instead of TorchSharp-cpu.");
        }
        log?.Invoke($"{why}; MLContext.FallbackToCpu is true, so the CPU is used.");
        return (DeviceType.CPU, null);
    }
}
