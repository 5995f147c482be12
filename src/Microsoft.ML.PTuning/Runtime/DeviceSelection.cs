using TorchSharp;

namespace Microsoft.ML.PTuning.Runtime;

/// <summary>Turns the <see cref="PrefixTuningOptions.Device"/> option into a TorchSharp device.</summary>
internal static class DeviceSelection
{
    /// <summary>null → CUDA when available, else CPU; "cpu"; "cuda"; "cuda:N".</summary>
    public static torch.Device Resolve(string? device)
    {
        if (string.IsNullOrWhiteSpace(device))
            return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
        string value = device.Trim().ToLowerInvariant();
        if (value == "cpu")
            return torch.CPU;
        if (value == "cuda" || value.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
            {
                throw new ArgumentException(
                    $"Device '{device}' was requested but CUDA is not available: reference TorchSharp-cuda-linux or TorchSharp-cuda-windows instead of TorchSharp-cpu, and check the GPU driver.",
                    nameof(PrefixTuningOptions.Device));
            }

            if (value == "cuda")
                return torch.CUDA;
            if (!int.TryParse(value.AsSpan(5), out int index) || index < 0 || index >= torch.cuda.device_count())
                throw new ArgumentException($"Device '{device}': expected cuda:N with N between 0 and {torch.cuda.device_count() - 1}.", nameof(PrefixTuningOptions.Device));
            return new torch.Device(DeviceType.CUDA, index);
        }
        throw new ArgumentException($"Device '{device}' is not recognised: use null (automatic), \"cpu\", \"cuda\" or \"cuda:N\".", nameof(PrefixTuningOptions.Device));
    }
}
