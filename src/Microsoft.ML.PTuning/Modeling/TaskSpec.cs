namespace Microsoft.ML.PTuning.Modeling;

/// <summary>
/// Everything that fixes a trained task model's shape, and so everything a saved task must record to be rebuilt: the
/// task, the class count, the method and the prefix (or prompt) length.
/// </summary>
internal sealed record TaskSpec(TaskKind Kind, int ClassCount, TuningMethod Method, int PrefixLength)
{
    /// <summary>Prefix or prompt length that occupies position slots (0 for methods without one).</summary>
    public int PositionsUsed => Method is TuningMethod.PrefixTuning or TuningMethod.PromptTuning ? PrefixLength : 0;
}
