using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Runtime;

/// <summary>
/// Resolves <see cref="ComputePrecision.Auto"/> to a concrete precision for a device, and maps a precision to the
/// TorchSharp element type the backbone is held in.
/// </summary>
internal static class PrecisionSelection
{
    /// <summary>The machine's own capabilities (read once).</summary>
    public static IComputeCapabilities Machine { get; } = new MachineCapabilities();

    /// <summary>
    /// <paramref name="precision"/> itself, or for <see cref="ComputePrecision.Auto"/>: bf16 where
    /// <paramref name="device"/> has fast bf16 (CUDA compute capability ≥ 8.0; a CPU with AVX512-BF16 or AMX-BF16), else
    /// fp32. Never returns Auto.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An undefined enum value (names the Precision option).</exception>
    public static ComputePrecision Resolve(ComputePrecision precision, Device device, IComputeCapabilities? capabilities = null)
    {
        if (!Enum.IsDefined(precision))
            throw new ArgumentOutOfRangeException(nameof(PrefixTuningOptions.Precision), precision, "Precision must be Float32, BFloat16 or Auto.");
        if (precision != ComputePrecision.Auto)
            return precision;
        capabilities ??= Machine;
        bool fast = device.type switch
        {
            DeviceType.CUDA => capabilities.CudaComputeCapability(device.index < 0 ? 0 : device.index) is (int major, _) && major >= 8,
            DeviceType.CPU => capabilities.CpuHasFastBFloat16,
            _ => false,
        };
        return fast ? ComputePrecision.BFloat16 : ComputePrecision.Float32;
    }

    /// <summary>The element type of a resolved precision.</summary>
    public static ScalarType ElementType(ComputePrecision resolved) => resolved switch
    {
        ComputePrecision.Float32 => ScalarType.Float32,
        ComputePrecision.BFloat16 => ScalarType.BFloat16,
        _ => throw new ArgumentOutOfRangeException(nameof(resolved), resolved, "Resolve Auto to a concrete precision first."),
    };

    /// <summary>
    /// What <see cref="Machine"/> reads: on Linux the CPU flags <c>avx512_bf16</c> / <c>amx_bf16</c> of
    /// <c>/proc/cpuinfo</c>; elsewhere .NET's AVX10.1 support (which includes the AVX512-BF16 instructions). The CUDA
    /// compute capability comes from the CUDA runtime library (<c>cudaDeviceGetAttribute</c>), because TorchSharp 0.107
    /// does not expose it; where that library cannot be loaded the answer is "unknown" and Auto picks fp32.
    /// </summary>
    private sealed class MachineCapabilities : IComputeCapabilities
    {
        private readonly Lazy<bool> _cpu = new(ReadCpu);
        private readonly System.Collections.Concurrent.ConcurrentDictionary<int, (int, int)?> _cuda = new();

        private delegate int CudaDeviceGetAttribute(out int value, int attribute, int device);

        public bool CpuHasFastBFloat16 => _cpu.Value;

        public (int Major, int Minor)? CudaComputeCapability(int deviceIndex) => _cuda.GetOrAdd(deviceIndex, QueryCuda);

        private static (int, int)? QueryCuda(int deviceIndex)
        {
            if (!torch.cuda.is_available())
                return null;
            foreach (string name in new[] { "libcudart.so.12", "libcudart.so.11.0", "libcudart.so", "cudart64_12.dll", "cudart64_110.dll" })
            {
                if (!NativeLibrary.TryLoad(name, typeof(PrecisionSelection).Assembly, null, out IntPtr library)
                    || !NativeLibrary.TryGetExport(library, "cudaDeviceGetAttribute", out IntPtr export))
                {
                    continue;
                }
                var getAttribute = Marshal.GetDelegateForFunctionPointer<CudaDeviceGetAttribute>(export);
                // cudaDevAttrComputeCapabilityMajor = 75, cudaDevAttrComputeCapabilityMinor = 76; 0 is cudaSuccess.
                if (getAttribute(out int major, 75, deviceIndex) == 0 && getAttribute(out int minor, 76, deviceIndex) == 0)
                    return (major, minor);
            }
            return null;
        }

        private static bool ReadCpu()
        {
            if (OperatingSystem.IsLinux())
            {
                try
                {
                    return CpuInfoHasFastBFloat16(File.ReadLines("/proc/cpuinfo"));
                }
                catch (IOException)
                {
                    return false;
                }
                catch (UnauthorizedAccessException)
                {
                    return false;
                }
            }
            return System.Runtime.Intrinsics.X86.Avx10v1.IsSupported;
        }
    }

    /// <summary>True when the first <c>flags</c> line of <c>/proc/cpuinfo</c> lists <c>avx512_bf16</c> or <c>amx_bf16</c>.</summary>
    internal static bool CpuInfoHasFastBFloat16(IEnumerable<string> cpuinfoLines)
    {
        foreach (string line in cpuinfoLines)
        {
            int colon = line.IndexOf(':');
            if (colon < 0 || !line.AsSpan(0, colon).Trim().SequenceEqual("flags"))
                continue;
            var flags = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return flags.Contains("avx512_bf16") || flags.Contains("amx_bf16");
        }
        return false;
    }
}
