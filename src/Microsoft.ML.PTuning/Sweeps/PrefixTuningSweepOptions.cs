namespace Microsoft.ML.PTuning;

/// <summary>What a <see cref="PrefixTuningSweeper"/> searches and how.</summary>
public sealed class PrefixTuningSweepOptions
{
    /// <summary>Prefix lengths to try; null takes the <c>[Choice]</c> candidates declared on <see cref="PrefixTuningOptions.PrefixLength"/>.</summary>
    public IReadOnlyList<int>? PrefixLengths { get; set; }

    /// <summary>
    /// Learning rates to try; null takes three points of the <c>[Range]</c> declared on <see cref="PrefixTuningOptions.LearningRate"/>:
    /// its initial value and that value times and divided by 3 (clamped to the range).
    /// </summary>
    public IReadOnlyList<double>? LearningRates { get; set; }

    /// <summary>How trials are chosen and scheduled; successive halving by default.</summary>
    public SweepStrategy Strategy { get; set; } = SweepStrategy.SuccessiveHalving;

    /// <summary>The most trials to run; 0 means every combination (Grid, SuccessiveHalving) or 8 (Random).</summary>
    public int MaxTrials { get; set; }

    /// <summary>Wall-clock budget for the whole sweep; no new epoch starts once it is spent. Null for none.</summary>
    public TimeSpan? TimeBudget { get; set; }

    /// <summary>The metric that ranks trials.</summary>
    public SweepMetric Metric { get; set; } = SweepMetric.Default;

    /// <summary>Seed for trial sampling and for every trial's training; null uses the base options' seed (or 0).</summary>
    public int? Seed { get; set; }

    /// <summary>Successive halving keeps the best 1/ReductionFactor trials at each rung (at least 2).</summary>
    public int ReductionFactor { get; set; } = 3;

    /// <summary>Receives a report after every epoch of every trial.</summary>
    public IProgress<PrefixTuningSweepProgress>? Progress { get; set; }

    /// <summary>
    /// A folder where each trial checkpoints its training (<see cref="PrefixTuningOptions.CheckpointFolder"/>) in a
    /// subfolder named for its prefix length and learning rate, e.g. <c>prefix-4_lr-0.01</c>. A sweep run again with the same
    /// folder, data and options resumes: finished trials are not trained again (their recorded epochs are reused), an
    /// interrupted one continues where it stopped, and the result equals that of a sweep never interrupted (its
    /// <c>TotalEpochs</c> counts the reused epochs too; <see cref="Progress"/> reports only those trained now). Null (the
    /// default) saves nothing; the base options' own <c>CheckpointFolder</c> is not used by a sweep.
    /// </summary>
    public string? CheckpointFolder { get; set; }

    /// <summary>Stops the sweep at the next step; <c>Run</c> then throws <see cref="OperationCanceledException"/>.</summary>
    public CancellationToken CancellationToken { get; set; }
}
