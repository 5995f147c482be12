using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

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
