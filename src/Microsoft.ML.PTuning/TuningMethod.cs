namespace Microsoft.ML.PTuning;

/// <summary>Which parameters a task trains on top of a pretrained encoder.</summary>
public enum TuningMethod
{
    /// <summary>
    /// P-Tuning v2 (deep prefix tuning, the default): trainable key/value prefixes in every attention layer plus the
    /// task head; the encoder stays frozen. Typically 0.1–3 % of the encoder's parameter count.
    /// </summary>
    PrefixTuning = 0,

    /// <summary>
    /// Prompt tuning: trainable vectors placed before the token embeddings (input layer only) plus the task head; the
    /// encoder stays frozen.
    /// </summary>
    PromptTuning = 1,

    /// <summary>Full fine-tuning: every encoder parameter and the task head are trained (a baseline; needs its own copy of the encoder).</summary>
    FullFineTuning = 2,

    /// <summary>Linear probe: only the task head is trained on the frozen encoder's features (a baseline).</summary>
    LinearProbe = 3,

    /// <summary>
    /// A handcrafted prompt (zero-shot): each input is rendered through a cloze template
    /// (<c>PrefixTuningTextClassificationOptions.PromptTemplate</c>, e.g. <c>"{Sentence1} It was {mask}."</c>) and the
    /// frozen masked-language model's logits at the mask for each class's label words
    /// (<c>PrefixTuningTextClassificationOptions.Verbalizer</c>) give the class scores. Nothing is trained; the base
    /// model must have a masked-LM head. Text classification only.
    /// </summary>
    HandcraftedPrompt = 4,

    /// <summary>
    /// P-Tuning v1 (Liu et al., 2021): the template's <c>{prompt:N}</c> slots hold trainable continuous vectors produced by a
    /// prompt encoder (a bidirectional LSTM and an MLP, or an MLP alone), inserted among the input embeddings; backbone and
    /// masked-LM head stay frozen and the class is read at the mask through the verbalizer, as for
    /// <see cref="HandcraftedPrompt"/>. After training the encoder is folded to plain vectors. Text classification only.
    /// </summary>
    PTuningV1 = 5,
}
