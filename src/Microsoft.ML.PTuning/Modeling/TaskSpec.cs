namespace Microsoft.ML.PTuning.Modeling;

/// <summary>
/// Everything that fixes a trained task model's shape, and so everything a saved task must record to be rebuilt: the
/// task, the class count, the method, the prefix (or prompt) length and, for prefix tuning, the layers the prefix
/// covers (<see cref="PrefixDepth"/>: the top k; null for all), and how a sequence-classification head pools
/// (<see cref="Pooling"/>: <see cref="PoolingMode.Cls"/> or <see cref="PoolingMode.Mean"/>, never Auto — it is resolved at Fit).
/// </summary>
internal sealed record TaskSpec(TaskKind Kind, int ClassCount, TuningMethod Method, int PrefixLength, int? PrefixDepth = null,
    PoolingMode Pooling = PoolingMode.Cls)
{
    /// <summary>
    /// HandcraftedPrompt and PTuningV1: the cloze template (the option <c>PromptTemplate</c>, every <c>{prompt}</c> resolved
    /// to <c>{prompt:N}</c>, so it fixes the prompt length itself); null for the other methods.
    /// </summary>
    public string? PromptTemplate { get; init; }

    /// <summary>HandcraftedPrompt and PTuningV1: each class's label words, in class order (the option <c>Verbalizer</c>); else null.</summary>
    public IReadOnlyList<string[]>? LabelWords { get; init; }

    /// <summary>Whether the method reads its classes at a mask with the masked-LM head (HandcraftedPrompt, PTuningV1).</summary>
    public bool UsesMaskedLanguageModel => Method is TuningMethod.HandcraftedPrompt or TuningMethod.PTuningV1;

    /// <summary>Prefix or prompt length that occupies position slots (0 for methods without one).</summary>
    public int PositionsUsed => Method is TuningMethod.PrefixTuning or TuningMethod.PromptTuning ? PrefixLength : 0;
}
