using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

/// <summary>
/// The heads that are dropout then <c>classifier</c> Linear(H, C) on what they read (every token, or a pooled vector),
/// with Hugging Face's names <c>classifier.weight</c> and <c>classifier.bias</c>.
/// </summary>
public abstract class LinearClassificationHead : TaskHead
{
#pragma warning disable IDE1006 // names equal HF's state-dict names
    private readonly Dropout dropout;
    private readonly Linear classifier;
#pragma warning restore IDE1006

    /// <summary>A head for hidden size <paramref name="hiddenSize"/> and <paramref name="numLabels"/> labels.</summary>
    protected LinearClassificationHead(string name, int hiddenSize, int numLabels, double dropout) : base(name)
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

    /// <summary><paramref name="features"/> <c>[..., H]</c> → logits <c>[..., C]</c>, in the head's precision.</summary>
    protected Tensor Linear(Tensor features) => classifier.forward(dropout.forward(InHeadPrecision(features)));
}
