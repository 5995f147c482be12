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

    /// <summary>
    /// Runs layers <paramref name="from"/> to <paramref name="to"/> (exclusive). A prefix covers the top
    /// <c>prefix.LayerCount</c> layers; those take <paramref name="prefixMask"/> (with the prefix's columns), the layers
    /// below take <paramref name="tokenMask"/> (null when none of them runs).
    /// </summary>
    public Tensor forward(Tensor hidden, Tensor? tokenMask, Tensor? prefixMask, PastKeyValues? prefix, int from, int to)
    {
        int firstWithPrefix = layer.Count - (prefix?.LayerCount ?? 0);
        for (int i = from; i < to; i++)
        {
            hidden = i < firstWithPrefix
                ? layer[i].forward(hidden, tokenMask!, null, null)
                : layer[i].forward(hidden, prefixMask!, prefix!.Key(i - firstWithPrefix), prefix.Value(i - firstWithPrefix));
        }
        return hidden;
    }
}
