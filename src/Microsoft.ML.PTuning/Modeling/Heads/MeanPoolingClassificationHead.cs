using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

/// <summary>
/// A sequence-classification head over mean-pooled token states, as sentence-transformers pools: the mean of the final
/// hidden states over the real tokens (attention mask 1), then dropout and <c>classifier</c> Linear(H, C). Output
/// <c>[B, C]</c>. Prefix or prompt positions never reach it (the model removes them before the head).
/// </summary>
public sealed class MeanPoolingClassificationHead : LinearClassificationHead
{
    /// <summary>A head for hidden size <paramref name="hiddenSize"/> and <paramref name="numLabels"/> labels.</summary>
    public MeanPoolingClassificationHead(int hiddenSize, int numLabels, double dropout)
        : base(nameof(MeanPoolingClassificationHead), hiddenSize, numLabels, dropout)
    {
    }

    /// <summary>Every position counts (no padding): the plain mean over <c>T</c>. Prefer <see cref="Classify"/>.</summary>
    public override Tensor forward(Tensor sequenceOutput) => Linear(InHeadPrecision(sequenceOutput).mean(new long[] { 1 }));

    /// <summary>
    /// <paramref name="sequenceOutput"/> <c>[B, T, H]</c> and <paramref name="attentionMask"/> <c>[B, T]</c> (1 = real
    /// token) → logits <c>[B, C]</c>. The mean is taken in the head's precision (fp32): <c>Σ mask·h / max(Σ mask, 1e-9)</c>.
    /// </summary>
    public override Tensor Classify(Tensor sequenceOutput, Tensor attentionMask)
    {
        using var scope = torch.NewDisposeScope();
        return Linear(MeanOverRealTokens(InHeadPrecision(sequenceOutput), attentionMask)).MoveToOuterDisposeScope();
    }

    // The floor of the token count (an all-padding row pools to zeros, not NaN); held for the process (see ScalarOperand).
    private static readonly Scalar MinimumCount = 1e-9.ToScalar();

    /// <summary>The mean of <paramref name="hidden"/> <c>[B, T, H]</c> over positions where <paramref name="attentionMask"/> is non-zero.</summary>
    public static Tensor MeanOverRealTokens(Tensor hidden, Tensor attentionMask)
    {
        using var scope = torch.NewDisposeScope();
        Tensor mask = attentionMask.to_type(hidden.dtype).unsqueeze(-1);
        Tensor sum = (hidden * mask).sum(1);
        Tensor count = mask.sum(1).clamp_min(MinimumCount);
        return (sum / count).MoveToOuterDisposeScope();
    }
}
