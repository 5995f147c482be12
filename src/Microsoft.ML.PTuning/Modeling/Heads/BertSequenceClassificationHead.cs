using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

/// <summary>
/// HF <c>BertForSequenceClassification</c>'s head: the encoder's pooler (<c>dense</c> + tanh on [CLS]), dropout, then
/// <c>classifier</c> Linear(H, C). Output <c>[B, C]</c>.
/// </summary>
/// <remarks>The pooler belongs to the encoder (<c>pooler.dense</c>) and is not a parameter of this head.</remarks>
public sealed class BertSequenceClassificationHead : TaskHead
{
#pragma warning disable IDE1006 // names equal HF's state-dict names
    private readonly Dropout dropout;
    private readonly Linear classifier;
#pragma warning restore IDE1006

    private readonly TransformerEncoder _encoder;

    /// <summary>A head reading <paramref name="encoder"/>'s pooler.</summary>
    /// <exception cref="ArgumentException">The encoder has no pooler.</exception>
    public BertSequenceClassificationHead(TransformerEncoder encoder, int numLabels, double dropout)
        : base(nameof(BertSequenceClassificationHead))
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentOutOfRangeException.ThrowIfLessThan(numLabels, 1);
        if (!encoder.HasPooler)
            throw new ArgumentException("The BERT classification head needs the encoder's pooler (pooler.dense); the encoder has none.", nameof(encoder));
        _encoder = encoder;
        NumLabels = numLabels;
        this.dropout = nn.Dropout(dropout);
        classifier = nn.Linear(encoder.Config.HiddenSize, numLabels);
        register_module(nameof(this.dropout), this.dropout);
        register_module(nameof(classifier), classifier);
    }

    /// <inheritdoc/>
    public override int NumLabels { get; }

    /// <inheritdoc/>
    protected override string HuggingFacePrefix => "";

    /// <summary>
    /// <paramref name="sequenceOutput"/> <c>[B, T, H]</c> → logits <c>[B, C]</c>. The pooler runs in the encoder's
    /// precision, the classifier in its own (fp32).
    /// </summary>
    public override Tensor forward(Tensor sequenceOutput) =>
        classifier.forward(dropout.forward(InHeadPrecision(_encoder.Pool(sequenceOutput))));

    // The encoder is shared, not owned: only dropout and classifier (registered in the constructor) belong here.
    /// <inheritdoc/>
    protected override void RegisterComponents()
    {
    }
}
