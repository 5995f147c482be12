namespace Microsoft.ML.PTuning;

/// <summary>The number format the frozen backbone is held and run in (<see cref="PrefixTuningOptions.Precision"/>).</summary>
/// <remarks>
/// Whatever is chosen, trained parameters (prefix, prompt, head; full fine-tuning's encoder) keep fp32 master copies,
/// softmax, LayerNorm statistics and the loss accumulate in fp32, and a saved model zip stores fp32 tensors.
/// </remarks>
public enum ComputePrecision
{
    /// <summary>Everything in 32-bit floats.</summary>
    Float32 = 0,

    /// <summary>
    /// The backbone's weights and activations in bfloat16 (half the memory; about twice the matmul rate on hardware
    /// with bf16 units), with fp32 master copies of what is trained and fp32 accumulation where it matters.
    /// </summary>
    BFloat16 = 1,

    /// <summary>
    /// <see cref="BFloat16"/> where the device has fast bf16 arithmetic — a CUDA GPU of compute capability 8.0 or more
    /// (Ampere and later), or a CPU with AVX512-BF16 or AMX-BF16 — else <see cref="Float32"/>. Decided on the machine
    /// that trains, and again on the machine that loads a saved model.
    /// </summary>
    Auto = 2,
}
