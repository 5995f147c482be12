namespace Microsoft.ML.PTuning;

/// <summary>How <see cref="PrefixTuningSweeper"/> chooses and schedules trials.</summary>
public enum SweepStrategy
{
    /// <summary>Every combination of prefix length and learning rate, each trained to the end (or early stopping).</summary>
    Grid,

    /// <summary><see cref="PrefixTuningSweepOptions.MaxTrials"/> combinations drawn at random (seeded), each trained to the end.</summary>
    Random,

    /// <summary>
    /// Every combination starts; after each rung of epochs only the best 1/<see cref="PrefixTuningSweepOptions.ReductionFactor"/>
    /// continue, so weak prefix lengths stop early and the survivor trains for the full <c>MaxEpochs</c>.
    /// </summary>
    SuccessiveHalving,
}

/// <summary>The validation metric a sweep ranks trials by.</summary>
public enum SweepMetric
{
    /// <summary>The task's own: accuracy for text classification; entity micro-F1 for BIO token labels, else word accuracy.</summary>
    Default,

    /// <summary>Accuracy: of sentences for text classification, of labelled words for token classification.</summary>
    Accuracy,

    /// <summary>Entity-level micro-F1 (seqeval rules for BIO tags); token classification only.</summary>
    EntityF1,
}

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

    /// <summary>Stops the sweep at the next step; <c>Run</c> then throws <see cref="OperationCanceledException"/>.</summary>
    public CancellationToken CancellationToken { get; set; }
}

/// <summary>A progress report from a sweep.</summary>
public sealed record PrefixTuningSweepProgress
{
    /// <summary>0-based index of the trial that just finished an epoch.</summary>
    public int Trial { get; init; }

    /// <summary>Number of trials in the sweep.</summary>
    public int TrialCount { get; init; }

    /// <summary>The trial's prefix length.</summary>
    public int PrefixLength { get; init; }

    /// <summary>The trial's learning rate.</summary>
    public double LearningRate { get; init; }

    /// <summary>The epoch the trial just finished (1-based).</summary>
    public int Epoch { get; init; }

    /// <summary>Its validation metric.</summary>
    public double ValidationMetric { get; init; }

    /// <summary>Epochs run so far over all trials.</summary>
    public int TotalEpochs { get; init; }

    /// <summary>Time since the sweep started.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <inheritdoc/>
    public override string ToString() =>
        $"trial {Trial + 1}/{TrialCount} (prefix {PrefixLength}, lr {LearningRate:G3}) epoch {Epoch}: validation {ValidationMetric:F4} " +
        $"[{TotalEpochs} epochs, {Elapsed:hh\\:mm\\:ss}]";
}
