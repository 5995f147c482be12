namespace Microsoft.ML.PTuning;

/// <summary>
/// A progress report from a <c>Fit</c>: while the base model loads (<see cref="ProgressStage.LoadingBaseModel"/>, one
/// report per step) and while it trains (<see cref="ProgressStage.Training"/>, about ten per epoch and one at each
/// epoch's end). <see cref="Completed"/> / <see cref="Total"/> is the stage's fraction done, whatever the stage.
/// </summary>
public sealed record PrefixTuningProgress
{
    /// <summary>What a <c>Fit</c> is doing when it reports.</summary>
    public enum ProgressStage
    {
        /// <summary>Training steps and validation: the epoch, step, loss and ETA fields are set.</summary>
        Training = 0,

        /// <summary>Reading the frozen base model (hashing and reading its files, building the encoder): <see cref="Description"/> says which step.</summary>
        LoadingBaseModel = 1,
    }

    /// <summary>The stage this report is about; <see cref="ProgressStage.Training"/> for every report of earlier versions' kind.</summary>
    public ProgressStage Stage { get; init; }

    /// <summary>What starts now, for stages other than training (e.g. "reading model.safetensors"), else null.</summary>
    public string? Description { get; init; }

    /// <summary>Units of the stage done: load steps finished, or optimizer steps (<see cref="Step"/>) while training.</summary>
    public int Completed { get; init; }

    /// <summary>Units of the stage in all: load steps, or <see cref="TotalSteps"/> while training.</summary>
    public int Total { get; init; }

    /// <summary>Time spent in this stage so far (training: training and validating, pauses of a sweep excluded).</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>
    /// Training: the estimated time to the last planned step, from the time the steps so far took (validation included);
    /// early stopping may end sooner. Null before a step is timed and in other stages.
    /// </summary>
    public TimeSpan? EstimatedRemaining { get; init; }

    /// <summary>1-based epoch (0 in other stages).</summary>
    public int Epoch { get; init; }

    /// <summary>Total epochs planned (early stopping may end sooner).</summary>
    public int MaxEpochs { get; init; }

    /// <summary>Optimizer steps done so far, over all epochs.</summary>
    public int Step { get; init; }

    /// <summary>Optimizer steps planned over all epochs.</summary>
    public int TotalSteps { get; init; }

    /// <summary>Mean training loss since the previous report.</summary>
    public double Loss { get; init; }

    /// <summary>The validation metric at the end of an epoch (accuracy or entity F1), null within an epoch or without validation data.</summary>
    public double? ValidationMetric { get; init; }

    /// <summary>Training examples processed per second since the previous report.</summary>
    public double ExamplesPerSecond { get; init; }

    /// <summary>True for the report made at the end of an epoch.</summary>
    public bool EndOfEpoch { get; init; }

    /// <inheritdoc/>
    public override string ToString() => Stage switch
    {
        ProgressStage.Training =>
            $"epoch {Epoch}/{MaxEpochs} step {Step}/{TotalSteps} loss {Loss:F4}" +
            (ValidationMetric is double m ? $" validation {m:F4}" : "") + $" ({ExamplesPerSecond:F1} examples/s" +
            (EstimatedRemaining is TimeSpan eta ? $", about {Format(eta)} left)" : ")"),
        _ => $"loading base model: {Description} ({Completed}/{Total}, {Format(Elapsed)})",
    };

    private static string Format(TimeSpan time) =>
        time.TotalHours >= 1 ? $"{(int)time.TotalHours}h{time.Minutes:D2}m" : time.TotalMinutes >= 1 ? $"{time.Minutes}m{time.Seconds:D2}s" : $"{time.TotalSeconds:F0}s";
}
