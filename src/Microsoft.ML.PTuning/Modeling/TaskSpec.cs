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
    /// <summary>Prefix or prompt length that occupies position slots (0 for methods without one).</summary>
    public int PositionsUsed => Method is TuningMethod.PrefixTuning or TuningMethod.PromptTuning ? PrefixLength : 0;
}
