using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

/// <summary>The feed-forward activations named by Hugging Face's <c>hidden_act</c> (its <c>ACT2FN</c> table).</summary>
internal static class Activations
{
    private static readonly double SqrtTwoOverPi = Math.Sqrt(2.0 / Math.PI);

    /// <summary>The function for <paramref name="name"/>; names are checked by <see cref="EncoderConfig.Validate"/>.</summary>
    public static Func<Tensor, Tensor> Get(string name) => name switch
    {
        // "gelu" in HF is the exact erf form; "gelu_new", "gelu_fast" and "gelu_pytorch_tanh" are the tanh form.
        "gelu" or "gelu_python" => x => nn.functional.gelu(x),
        "gelu_pytorch_tanh" => x => nn.functional.gelu(x, GELU.Approximate.tanh),
        "gelu_new" or "gelu_fast" => TanhGelu,
        "quick_gelu" => x => x * torch.sigmoid(1.702 * x),
        "relu" => x => nn.functional.relu(x),
        "silu" or "swish" => x => nn.functional.silu(x),
        "tanh" => x => torch.tanh(x),
        "mish" => x => nn.functional.mish(x),
        _ => throw new ArgumentException(
            $"hidden_act '{name}' is not supported; expected one of {string.Join(", ", EncoderConfig.SupportedActivations)}.", nameof(name)),
    };

    // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), written out as HF's NewGELUActivation does.
    private static Tensor TanhGelu(Tensor x) =>
        0.5 * x * (1.0 + torch.tanh(SqrtTwoOverPi * (x + 0.044715 * torch.pow(x, 3.0))));
}
