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
