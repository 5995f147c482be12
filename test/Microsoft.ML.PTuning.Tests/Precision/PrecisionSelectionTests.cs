using Microsoft.ML.PTuning.Runtime;
using TorchSharp;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Precision;

public class PrecisionSelectionTests
{
    private sealed class Capabilities(bool cpu, (int, int)? cuda) : IComputeCapabilities
    {
        public List<int> AskedCuda { get; } = [];

        public bool CpuHasFastBFloat16 => cpu;

        public (int Major, int Minor)? CudaComputeCapability(int deviceIndex)
        {
            AskedCuda.Add(deviceIndex);
            return cuda;
        }
    }

    private static readonly torch.Device Cuda1 = new(DeviceType.CUDA, 1);

    [Theory]
    [InlineData(true, ComputePrecision.BFloat16)]
    [InlineData(false, ComputePrecision.Float32)]
    public void AutoOnTheCpuFollowsItsBf16Units(bool cpuHasBf16, ComputePrecision expected) =>
        Assert.Equal(expected, PrecisionSelection.Resolve(ComputePrecision.Auto, torch.CPU, new Capabilities(cpuHasBf16, (9, 0))));

    [Theory]
    [InlineData(8, 0, ComputePrecision.BFloat16)]   // Ampere A100
    [InlineData(9, 0, ComputePrecision.BFloat16)]   // Hopper
    [InlineData(7, 5, ComputePrecision.Float32)]    // Turing: bf16 is emulated
    [InlineData(6, 1, ComputePrecision.Float32)]
    public void AutoOnCudaNeedsComputeCapabilityEight(int major, int minor, ComputePrecision expected)
    {
        var capabilities = new Capabilities(cpu: !(expected == ComputePrecision.BFloat16), (major, minor));
        Assert.Equal(expected, PrecisionSelection.Resolve(ComputePrecision.Auto, Cuda1, capabilities));
        Assert.Equal([1], capabilities.AskedCuda);   // the device's own index, and the CPU's answer is not used
    }

    [Fact]
    public void AutoOnCudaOfUnknownCapabilityStaysInFp32() =>
        Assert.Equal(ComputePrecision.Float32, PrecisionSelection.Resolve(ComputePrecision.Auto, Cuda1, new Capabilities(cpu: true, cuda: null)));

    [Theory]
    [InlineData(ComputePrecision.Float32)]
    [InlineData(ComputePrecision.BFloat16)]
    public void AnExplicitPrecisionIsKeptWhateverTheHardware(ComputePrecision precision)
    {
        var none = new Capabilities(cpu: false, cuda: null);
        Assert.Equal(precision, PrecisionSelection.Resolve(precision, torch.CPU, none));
        Assert.Equal(precision, PrecisionSelection.Resolve(precision, Cuda1, none));
        Assert.Empty(none.AskedCuda);
    }

    [Fact]
    public void AnUndefinedPrecisionIsRejectedNamingTheOption()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => PrecisionSelection.Resolve((ComputePrecision)7, torch.CPU));
        Assert.Equal(nameof(PrefixTuningOptions.Precision), e.ParamName);
    }

    [Theory]
    [InlineData("flags\t\t: fpu vme sse2 avx512f avx512_bf16 avx512_vnni", true)]
    [InlineData("flags\t\t: fpu amx_tile amx_bf16 amx_int8", true)]
    [InlineData("flags\t\t: fpu sse2 avx2 avx512f avx512_vnni", false)]
    [InlineData("bugs\t\t: avx512_bf16", false)]   // only the flags line counts
    public void CpuInfoFlagsDecideTheCpuAnswer(string line, bool expected) =>
        Assert.Equal(expected, PrecisionSelection.CpuInfoHasFastBFloat16(["processor\t: 0", "model name\t: Test CPU", line]));

    [Fact]
    public void TheMachineAnswerAgreesWithProcCpuinfoOnLinux()
    {
        if (!OperatingSystem.IsLinux())
            return;
        bool listed = File.ReadLines("/proc/cpuinfo").Any(l => l.StartsWith("flags", StringComparison.Ordinal)
            && (l.Contains(" avx512_bf16", StringComparison.Ordinal) || l.Contains(" amx_bf16", StringComparison.Ordinal)));
        Assert.Equal(listed, PrecisionSelection.Machine.CpuHasFastBFloat16);
    }
}
