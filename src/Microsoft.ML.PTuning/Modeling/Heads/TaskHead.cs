using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

/// <summary>
/// A task head over the encoder's hidden states of the real tokens <c>[B, T, H]</c> (prompt positions already removed).
/// </summary>
public abstract class TaskHead : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates a head; <paramref name="name"/> is the module's debug name.</summary>
    protected TaskHead(string name) : base(name)
    {
    }

    /// <summary>Number of output labels C.</summary>
    public abstract int NumLabels { get; }

    /// <summary>
    /// What a Hugging Face task model calls this head's tensors inside its state dict (for example
    /// <c>classifier.out_proj.weight</c>), before the head's own parameter name.
    /// </summary>
    protected abstract string HuggingFacePrefix { get; }

    /// <summary>The head's parameters under the names a Hugging Face task model gives them.</summary>
    public IEnumerable<(string Name, Parameter Parameter)> HuggingFaceParameters() =>
        named_parameters().Select(p => (HuggingFacePrefix + p.name, p.parameter));
}
