namespace Microsoft.ML.PTuning;

/// <summary>One trial of a sweep: a prefix length and learning rate, and what training them gave.</summary>
public sealed class PrefixTuningTrial
{
    private readonly List<double> _metrics = new();

    internal PrefixTuningTrial(int index, int prefixLength, double learningRate)
    {
        Index = index;
        PrefixLength = prefixLength;
        LearningRate = learningRate;
    }

    /// <summary>0-based position of the trial in the sweep.</summary>
    public int Index { get; }

    /// <summary>The prefix length tried.</summary>
    public int PrefixLength { get; }

    /// <summary>The peak learning rate tried.</summary>
    public double LearningRate { get; }

    /// <summary>The validation metric after each epoch run.</summary>
    public IReadOnlyList<double> ValidationMetrics => _metrics;

    /// <summary>The best validation metric (NaN before any epoch).</summary>
    public double BestMetric => _metrics.Count == 0 ? double.NaN : _metrics.Max();

    /// <summary>The 1-based epoch of <see cref="BestMetric"/> (0 before any epoch).</summary>
    public int BestEpoch => _metrics.Count == 0 ? 0 : _metrics.IndexOf(_metrics.Max()) + 1;

    /// <summary>Epochs this trial trained.</summary>
    public int EpochsRun => _metrics.Count;

    /// <summary>Scalars trained (prefix and head).</summary>
    public long TrainableParameters { get; internal set; }

    /// <summary>Wall time spent training and validating this trial.</summary>
    public TimeSpan WallTime { get; internal set; }

    /// <summary>Why the trial ended; for <see cref="TrialStatus.Halved"/>, <see cref="EpochsRun"/> is the epoch it was dropped at.</summary>
    public TrialStatus Status { get; internal set; } = TrialStatus.NotRun;

    /// <summary>
    /// <see cref="Status"/> in words, for <see cref="ToString"/> and the sweep report; the one place that spells it, so the
    /// two agree ("halved at epoch 3" needs <see cref="EpochsRun"/>, which the enum does not carry).
    /// </summary>
    internal string StatusText => Status switch
    {
        TrialStatus.NotRun => "not run",
        TrialStatus.Completed => "completed",
        TrialStatus.EarlyStopping => "early stopping",
        TrialStatus.Halved => $"halved at epoch {EpochsRun}",
        TrialStatus.TimeBudget => "time budget",
        _ => Status.ToString(),
    };

    internal void AddEpoch(double metric) => _metrics.Add(metric);

    /// <inheritdoc/>
    public override string ToString() =>
        $"prefix {PrefixLength}, lr {LearningRate:G3}: best {BestMetric:F4} at epoch {BestEpoch}/{EpochsRun} ({StatusText})";
}
