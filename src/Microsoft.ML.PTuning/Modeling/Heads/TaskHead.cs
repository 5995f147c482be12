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
    /// Logits from <paramref name="sequenceOutput"/> <c>[B, T, H]</c> (the real tokens) and their
    /// <paramref name="attentionMask"/> <c>[B, T]</c>. Heads that read a fixed token or every token ignore the mask; a
    /// pooling head uses it to leave padding out.
    /// </summary>
    public virtual Tensor Classify(Tensor sequenceOutput, Tensor attentionMask) => forward(sequenceOutput);

    /// <summary>
    /// What a Hugging Face task model calls this head's tensors inside its state dict (for example
    /// <c>classifier.out_proj.weight</c>), before the head's own parameter name.
    /// </summary>
    protected abstract string HuggingFacePrefix { get; }

    /// <summary>
    /// <paramref name="hidden"/> in the head's own element type: a head is trained, so it keeps fp32 weights even over
    /// a bf16 backbone, and its logits (and the loss computed from them) are fp32.
    /// </summary>
    protected Tensor InHeadPrecision(Tensor hidden)
    {
        ScalarType own = parameters().First().dtype;
        return hidden.dtype == own ? hidden : hidden.to_type(own);
    }

    /// <summary>The head's parameters under the names a Hugging Face task model gives them.</summary>
    public IEnumerable<(string Name, Parameter Parameter)> HuggingFaceParameters() =>
        named_parameters().Select(p => (HuggingFacePrefix + p.name, p.parameter));
}
