using System.Globalization;

namespace Microsoft.ML.PTuning.Cli.Output;

/// <summary>The library's training reports on a <see cref="ProgressDisplay"/>: steps, loss, validation and an ETA from the step counts.</summary>
internal sealed class TrainingProgress : IProgress<PrefixTuningProgress>
{
    private readonly ProgressDisplay _display;
    private readonly Eta _eta = new();

    public TrainingProgress(ProgressDisplay display) => _display = display;

    /// <summary>The last report (the epoch early stopping ended at, its metric), or null before any.</summary>
    public PrefixTuningProgress? Last { get; private set; }

    /// <summary>The best validation metric reported at the end of an epoch.</summary>
    public double? BestValidation { get; private set; }

    public void Report(PrefixTuningProgress value)
    {
        Last = value;
        if (value.EndOfEpoch && value.ValidationMetric is double metric && !(metric <= BestValidation))
            BestValidation = metric;
        TimeSpan? left = _eta.Remaining(value.Step, value.TotalSteps);
        _display.Update(value.Step, value.TotalSteps, Describe(value, left), milestone: value.EndOfEpoch);
    }

    /// <summary>"epoch 2/10 · step 40/200 · loss 0.4132 · validation 0.8750 · ETA 0:01:12".</summary>
    internal static string Describe(PrefixTuningProgress value, TimeSpan? left) =>
        string.Create(CultureInfo.InvariantCulture,
            $"epoch {value.Epoch}/{value.MaxEpochs} · step {value.Step}/{value.TotalSteps} · loss {value.Loss:F4}") +
        (value.ValidationMetric is double m ? string.Create(CultureInfo.InvariantCulture, $" · validation {m:F4}") : "") +
        $" · ETA {Eta.Format(left)}";
}
