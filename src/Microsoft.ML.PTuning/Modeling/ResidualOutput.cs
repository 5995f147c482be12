using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

/// <summary>
/// HF <c>BertSelfOutput</c> / <c>BertOutput</c> (same shape of computation): <c>dense</c> back to H, dropout, then
/// <c>LayerNorm(x + residual)</c>.
/// </summary>
internal sealed class ResidualOutput : nn.Module
{
#pragma warning disable IDE1006 // names equal the checkpoint's tensor names
    private readonly Linear dense;
    private readonly LayerNorm LayerNorm;
    private readonly EncoderDropout dropout;
#pragma warning restore IDE1006

    public ResidualOutput(int inputSize, EncoderConfig config) : base("output")
    {
        dense = nn.Linear(inputSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        dropout = new EncoderDropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    public Tensor forward(Tensor hidden, Tensor residual) =>
        LayerNorm.forward(dropout.forward(dense.forward(hidden)) + residual);
}
