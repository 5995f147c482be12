using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

/// <summary>
/// HF <c>BertLayer</c>: <c>attention.self</c>, <c>attention.output</c>, <c>intermediate</c>, <c>output</c>.
/// </summary>
internal sealed class EncoderLayer : nn.Module
{
#pragma warning disable IDE1006 // names equal the checkpoint's tensor names
    private readonly EncoderAttention attention;
    private readonly EncoderIntermediate intermediate;
    private readonly ResidualOutput output;
#pragma warning restore IDE1006

    public EncoderLayer(EncoderConfig config) : base("layer")
    {
        attention = new EncoderAttention(config);
        intermediate = new EncoderIntermediate(config);
        output = new ResidualOutput(config.IntermediateSize, config);
        RegisterComponents();
    }

    public Tensor forward(Tensor hidden, Tensor additiveMask, Tensor? prefixKey, Tensor? prefixValue)
    {
        Tensor attended = attention.forward(hidden, additiveMask, prefixKey, prefixValue);
        return output.forward(intermediate.forward(attended), attended);
    }
}

/// <summary>HF <c>BertAttention</c>: <c>self</c> then <c>output</c> (dense, dropout, residual LayerNorm).</summary>
internal sealed class EncoderAttention : nn.Module
{
#pragma warning disable IDE1006 // names equal the checkpoint's tensor names
    private readonly EncoderSelfAttention self;
    private readonly ResidualOutput output;
#pragma warning restore IDE1006

    public EncoderAttention(EncoderConfig config) : base("attention")
    {
        self = new EncoderSelfAttention(config);
        output = new ResidualOutput(config.HiddenSize, config);
        RegisterComponents();
    }

    public Tensor forward(Tensor hidden, Tensor additiveMask, Tensor? prefixKey, Tensor? prefixValue) =>
        output.forward(self.forward(hidden, additiveMask, prefixKey, prefixValue), hidden);
}

/// <summary>HF <c>BertIntermediate</c>: <c>dense</c> to the feed-forward width, then the configured activation.</summary>
internal sealed class EncoderIntermediate : nn.Module
{
#pragma warning disable IDE1006 // names equal the checkpoint's tensor names
    private readonly Linear dense;
#pragma warning restore IDE1006

    private readonly Func<Tensor, Tensor> _activation;

    public EncoderIntermediate(EncoderConfig config) : base("intermediate")
    {
        dense = nn.Linear(config.HiddenSize, config.IntermediateSize);
        _activation = Activations.Get(config.HiddenAct);
        RegisterComponents();
    }

    public Tensor forward(Tensor hidden) => _activation(dense.forward(hidden));
}

/// <summary>
/// HF <c>BertSelfOutput</c> / <c>BertOutput</c> (same shape of computation): <c>dense</c> back to H, dropout, then
/// <c>LayerNorm(x + residual)</c>.
/// </summary>
internal sealed class ResidualOutput : nn.Module
{
#pragma warning disable IDE1006 // names equal the checkpoint's tensor names
    private readonly Linear dense;
    private readonly LayerNorm LayerNorm;
    private readonly Dropout dropout;
#pragma warning restore IDE1006

    public ResidualOutput(int inputSize, EncoderConfig config) : base("output")
    {
        dense = nn.Linear(inputSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        dropout = nn.Dropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    public Tensor forward(Tensor hidden, Tensor residual) =>
        LayerNorm.forward(dropout.forward(dense.forward(hidden)) + residual);
}
