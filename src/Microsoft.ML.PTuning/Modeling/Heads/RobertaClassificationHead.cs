using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

/// <summary>
/// HF <c>RobertaClassificationHead</c> (<c>classifier</c> of <c>RobertaForSequenceClassification</c>): on the first
/// token (<c>&lt;s&gt;</c>): dropout, <c>dense</c> Linear(H, H), tanh, dropout, <c>out_proj</c> Linear(H, C).
/// Output <c>[B, C]</c>.
/// </summary>
public sealed class RobertaClassificationHead : TaskHead
{
#pragma warning disable IDE1006 // names equal HF's state-dict names
    private readonly Linear dense;
    private readonly Dropout dropout;
    private readonly Linear out_proj;
#pragma warning restore IDE1006

    /// <summary>A head for hidden size <paramref name="hiddenSize"/> and <paramref name="numLabels"/> labels.</summary>
    public RobertaClassificationHead(int hiddenSize, int numLabels, double dropout) : base(nameof(RobertaClassificationHead))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hiddenSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(numLabels, 1);
        NumLabels = numLabels;
        dense = nn.Linear(hiddenSize, hiddenSize);
        this.dropout = nn.Dropout(dropout);
        out_proj = nn.Linear(hiddenSize, numLabels);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override int NumLabels { get; }

    /// <inheritdoc/>
    protected override string HuggingFacePrefix => "classifier.";

    /// <summary><paramref name="sequenceOutput"/> <c>[B, T, H]</c> → logits <c>[B, C]</c> from token 0.</summary>
    public override Tensor forward(Tensor sequenceOutput)
    {
        Tensor x = dropout.forward(InHeadPrecision(sequenceOutput.select(1, 0)));
        x = dropout.forward(torch.tanh(dense.forward(x)));
        return out_proj.forward(x);
    }
}
