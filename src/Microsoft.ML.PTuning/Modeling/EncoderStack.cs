using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

/// <summary>HF <c>BertEncoder</c>: the module list <c>layer</c>.</summary>
internal sealed class EncoderStack : nn.Module
{
#pragma warning disable IDE1006 // names equal the checkpoint's tensor names
    private readonly ModuleList<EncoderLayer> layer;
#pragma warning restore IDE1006

    public EncoderStack(EncoderConfig config) : base("encoder")
    {
        layer = new ModuleList<EncoderLayer>(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new EncoderLayer(config)).ToArray());
        RegisterComponents();
    }

    public Tensor forward(Tensor hidden, Tensor additiveMask, PastKeyValues? prefix)
    {
        for (int i = 0; i < layer.Count; i++)
            hidden = layer[i].forward(hidden, additiveMask, prefix?.Key(i), prefix?.Value(i));
        return hidden;
    }
}
