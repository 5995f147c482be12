using Microsoft.ML.PTuning.Modeling;

namespace Microsoft.ML.PTuning;

/// <summary>Everything that fixes a task model's shape: task, classes, method and adapter size.</summary>
internal sealed record TaskSpec(TaskKind Kind, int ClassCount, TuningMethod Method, int PrefixLength, bool PrefixProjection, int PrefixHiddenSize, double Dropout)
{
    /// <summary>Prefix or prompt length that occupies position slots (0 for methods without one).</summary>
    public int PositionsUsed => Method is TuningMethod.PrefixTuning or TuningMethod.PromptTuning ? PrefixLength : 0;
}
