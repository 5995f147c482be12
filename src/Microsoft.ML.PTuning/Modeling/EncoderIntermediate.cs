using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

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
