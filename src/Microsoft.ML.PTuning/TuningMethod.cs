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
}
