using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

/// <summary>
/// HF <c>BertForTokenClassification</c> / <c>RobertaForTokenClassification</c>'s head: dropout, then
/// <c>classifier</c> Linear(H, C) on every token. Output <c>[B, T, C]</c>.
/// </summary>
public sealed class TokenClassificationHead : TaskHead
{
#pragma warning disable IDE1006 // names equal HF's state-dict names
    private readonly Dropout dropout;
    private readonly Linear classifier;
#pragma warning restore IDE1006

    /// <summary>A head for hidden size <paramref name="hiddenSize"/> and <paramref name="numLabels"/> labels.</summary>
    public TokenClassificationHead(int hiddenSize, int numLabels, double dropout) : base(nameof(TokenClassificationHead))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hiddenSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(numLabels, 1);
        NumLabels = numLabels;
        this.dropout = nn.Dropout(dropout);
        classifier = nn.Linear(hiddenSize, numLabels);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override int NumLabels { get; }

    /// <inheritdoc/>
    protected override string HuggingFacePrefix => "";

    /// <summary><paramref name="sequenceOutput"/> <c>[B, T, H]</c> → logits <c>[B, T, C]</c>.</summary>
    public override Tensor forward(Tensor sequenceOutput) => classifier.forward(dropout.forward(InHeadPrecision(sequenceOutput)));
}
