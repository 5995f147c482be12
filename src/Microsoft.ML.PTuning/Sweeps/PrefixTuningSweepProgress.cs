namespace Microsoft.ML.PTuning;

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
