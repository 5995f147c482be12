using System.Globalization;

namespace Microsoft.ML.PTuning.Cli.Output;

/// <summary>
/// A sweep's epoch reports on a <see cref="ProgressDisplay"/>. The bar counts epochs against the most the sweep can run
/// (trials × epochs; successive halving and early stopping finish sooner), and the ETA comes from those counts.
/// </summary>
internal sealed class SweepProgressDisplay : IProgress<PrefixTuningSweepProgress>
{
    private readonly ProgressDisplay _display;
    private readonly int _maxEpochs;
    private readonly Eta _eta = new();

    public SweepProgressDisplay(ProgressDisplay display, int maxEpochsPerTrial)
    {
        _display = display;
        _maxEpochs = maxEpochsPerTrial;
    }

    public void Report(PrefixTuningSweepProgress value)
    {
        int planned = Math.Max(value.TrialCount * _maxEpochs, value.TotalEpochs);
        TimeSpan? left = _eta.Remaining(value.TotalEpochs, planned);
        string description = string.Create(CultureInfo.InvariantCulture,
            $"trial {value.Trial + 1}/{value.TrialCount} (prefix {value.PrefixLength}, lr {value.LearningRate:G3}) epoch {value.Epoch}: " +
            $"validation {value.ValidationMetric:F4} · {value.TotalEpochs}/{planned} epochs · ETA ≤ {Eta.Format(left)}");
        _display.Update(value.TotalEpochs, planned, description, milestone: true);
    }
}
