using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

/// <summary>HF <c>BertPooler</c>: <c>dense</c> + tanh on the first token's hidden state.</summary>
internal sealed class EncoderPooler : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // names equal the checkpoint's tensor names
    private readonly Linear dense;
#pragma warning restore IDE1006

    public EncoderPooler(EncoderConfig config) : base("pooler")
    {
        dense = nn.Linear(config.HiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    /// <summary><paramref name="sequenceOutput"/> <c>[B, T, H]</c> → <c>[B, H]</c> from token 0.</summary>
    public override Tensor forward(Tensor sequenceOutput) => torch.tanh(dense.forward(sequenceOutput.select(1, 0)));
}
