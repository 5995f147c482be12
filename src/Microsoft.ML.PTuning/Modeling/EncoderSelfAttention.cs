using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

/// <summary>
/// HF <c>BertSelfAttention</c> (absolute positions): scaled dot-product attention over the layer's prefix keys/values
/// followed by the tokens' own, with an additive mask, softmax in fp32 and dropout on the probabilities.
/// </summary>
/// <remarks>
/// Two kernels compute the same thing, each where it was measured faster (MiniLM, 32 × 128 tokens, prefix 32, padding
/// mask; docs/BENCHMARKS.md "Kernels"): libtorch's fused <c>scaled_dot_product_attention</c> whenever no dropout applies
/// to the probabilities — in eval mode (fp32 1.8×, bf16 2.4× the eager kernel) and when training in fp32 (1.6×) — and
/// the eager kernel (matmul, fp32 softmax, <see cref="EncoderDropout"/>, matmul) when training in bf16 (the fused
/// backward ran 3× slower there) or with attention dropout (the fused kernel draws its own mask with the slow
/// <c>bernoulli_</c>). Both accumulate the softmax in fp32 for bf16 input (libtorch's CPU flash kernel uses
/// <c>opmath_type</c>, float, for its running max and sum).
/// </remarks>
internal sealed class EncoderSelfAttention : nn.Module
{
#pragma warning disable IDE1006 // names equal the checkpoint's tensor names
    private readonly Linear query;
    private readonly Linear key;
    private readonly Linear value;
    private readonly EncoderDropout dropout;
#pragma warning restore IDE1006

    private readonly int _heads;
    private readonly int _headDim;
    private readonly Scalar _scoreScale;

    public EncoderSelfAttention(EncoderConfig config) : base("self")
    {
        _heads = config.NumAttentionHeads;
        _headDim = config.HeadDim;
        _scoreScale = Math.Sqrt(_headDim).ToScalar();
        query = nn.Linear(config.HiddenSize, config.HiddenSize);
        key = nn.Linear(config.HiddenSize, config.HiddenSize);
        value = nn.Linear(config.HiddenSize, config.HiddenSize);
        dropout = new EncoderDropout(config.AttentionProbsDropoutProb);
        RegisterComponents();
    }

    /// <summary>
    /// <paramref name="hidden"/> <c>[B, S, H]</c>; <paramref name="additiveMask"/> <c>[B, 1, 1, P + S]</c> (0 where
    /// visible, dtype-min where not); <paramref name="prefixKey"/>/<paramref name="prefixValue"/> <c>[B, heads, P, d]</c>
    /// or null. Returns the context <c>[B, S, H]</c>.
    /// </summary>
    public Tensor forward(Tensor hidden, Tensor additiveMask, Tensor? prefixKey, Tensor? prefixValue)
    {
        long batch = hidden.shape[0], length = hidden.shape[1];
        Tensor q = SplitHeads(query.forward(hidden), batch, length);
        Tensor k = SplitHeads(key.forward(hidden), batch, length);
        Tensor v = SplitHeads(value.forward(hidden), batch, length);
        if (prefixKey is not null && prefixValue is not null)
        {
            k = torch.cat([prefixKey.to_type(k.dtype), k], dim: 2);
            v = torch.cat([prefixValue.to_type(v.dtype), v], dim: 2);
        }

        Tensor context = UseFusedKernel(q.dtype)
            ? nn.functional.scaled_dot_product_attention(q, k, v, additiveMask)
            : Eager(q, k, v, additiveMask);
        return context.permute(0, 2, 1, 3).reshape(batch, length, _heads * _headDim);
    }

    /// <summary>Whether the fused kernel is the faster one now (see remarks): no probability dropout, and not bf16 training.</summary>
    internal bool UseFusedKernel(ScalarType dtype) => !dropout.IsActive && (!training || dtype == ScalarType.Float32);

    /// <summary>The eager kernel: HF's eager attention with the softmax in fp32.</summary>
    private Tensor Eager(Tensor q, Tensor k, Tensor v, Tensor additiveMask)
    {
        Tensor scores = torch.matmul(q, k.transpose(-1, -2)).div_(_scoreScale).add_(additiveMask);
        Tensor probs = nn.functional.softmax(scores, -1, ScalarType.Float32).to_type(q.dtype);
        return torch.matmul(dropout.forward(probs), v);
    }

    private Tensor SplitHeads(Tensor x, long batch, long length) =>
        x.view(batch, length, _heads, _headDim).permute(0, 2, 1, 3);
}
