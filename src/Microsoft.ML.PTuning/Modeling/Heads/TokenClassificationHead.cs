using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

/// <summary>
/// HF <c>BertForTokenClassification</c> / <c>RobertaForTokenClassification</c>'s head: dropout, then
/// <c>classifier</c> Linear(H, C) on every token. Output <c>[B, T, C]</c>.
/// </summary>
public sealed class TokenClassificationHead : LinearClassificationHead
{
    /// <summary>A head for hidden size <paramref name="hiddenSize"/> and <paramref name="numLabels"/> labels.</summary>
    public TokenClassificationHead(int hiddenSize, int numLabels, double dropout)
        : base(nameof(TokenClassificationHead), hiddenSize, numLabels, dropout)
    {
    }

    /// <summary><paramref name="sequenceOutput"/> <c>[B, T, H]</c> → logits <c>[B, T, C]</c>.</summary>
    public override Tensor forward(Tensor sequenceOutput) => Linear(sequenceOutput);
}
