using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

/// <summary>The feed-forward activations named by Hugging Face's <c>hidden_act</c> (its <c>ACT2FN</c> table).</summary>
internal static class Activations
{
    // Held for the process (see ScalarOperand): the constants of the tanh GELU and of quick_gelu.
    private static readonly Scalar SqrtTwoOverPi = Math.Sqrt(2.0 / Math.PI).ToScalar();
    private static readonly Scalar Half = 0.5.ToScalar();
    private static readonly Scalar Three = 3.0.ToScalar();
    private static readonly Scalar CubicCoefficient = 0.044715.ToScalar();
    private static readonly Scalar QuickGeluScale = 1.702.ToScalar();

    /// <summary>The function for <paramref name="name"/>; names are checked by <see cref="EncoderConfig.Validate"/>.</summary>
    public static Func<Tensor, Tensor> Get(string name) => name switch
    {
        // "gelu" in HF is the exact erf form; "gelu_new", "gelu_fast" and "gelu_pytorch_tanh" are the tanh form.
        "gelu" or "gelu_python" => x => nn.functional.gelu(x),
        "gelu_pytorch_tanh" => x => nn.functional.gelu(x, GELU.Approximate.tanh),
        "gelu_new" or "gelu_fast" => TanhGelu,
        "quick_gelu" => x => x.mul(torch.sigmoid(x.mul(QuickGeluScale))),
        "relu" => x => nn.functional.relu(x),
        "silu" or "swish" => x => nn.functional.silu(x),
        "tanh" => x => torch.tanh(x),
        "mish" => x => nn.functional.mish(x),
        _ => throw new ArgumentException(
            $"hidden_act '{name}' is not supported; expected one of {string.Join(", ", EncoderConfig.SupportedActivations)}.", nameof(name)),
    };

    // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), written out as HF's NewGELUActivation does.
    private static Tensor TanhGelu(Tensor x) =>
        x.mul(Half).mul(torch.tanh(x.add(torch.pow(x, Three).mul(CubicCoefficient)).mul(SqrtTwoOverPi)).add(ScalarOperand.One));
}
