namespace Microsoft.ML.PTuning.Runtime;

/// <summary>
/// What <see cref="PrecisionSelection.Resolve"/> asks of the hardware to decide <see cref="ComputePrecision.Auto"/>;
/// tests pass their own answers.
/// </summary>
internal interface IComputeCapabilities
{
    /// <summary>Whether the CPU has bf16 arithmetic units (AVX512-BF16 or AMX-BF16).</summary>
    bool CpuHasFastBFloat16 { get; }

    /// <summary>The compute capability of CUDA device <paramref name="deviceIndex"/>, or null when unknown.</summary>
    (int Major, int Minor)? CudaComputeCapability(int deviceIndex);
}
