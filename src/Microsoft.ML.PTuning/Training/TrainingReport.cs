namespace Microsoft.ML.PTuning.Training;

/// <summary>
/// A progress report of the training loop: within an epoch (about ten per epoch) and at its end. The ML.NET layer turns
/// it into the public <see cref="PrefixTuningProgress"/>; training itself knows nothing of options or catalogs.
/// </summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="MaxEpochs">Total epochs planned (early stopping may end sooner).</param>
/// <param name="Step">Optimizer steps done so far, over all epochs.</param>
/// <param name="TotalSteps">Optimizer steps planned over all epochs.</param>
/// <param name="Loss">Mean training loss since the previous report.</param>
/// <param name="ValidationMetric">The validation metric at the end of an epoch; null within one or without validation data.</param>
/// <param name="ExamplesPerSecond">Training examples processed per second since the previous report.</param>
/// <param name="EndOfEpoch">True for the report made at the end of an epoch.</param>
/// <param name="Elapsed">Time this trainer has spent training and validating so far (pauses between epochs excluded).</param>
/// <param name="Remaining">The estimated time to the last planned step, or null before a step was timed.</param>
internal sealed record TrainingReport(int Epoch, int MaxEpochs, int Step, int TotalSteps, double Loss, double? ValidationMetric,
    double ExamplesPerSecond, bool EndOfEpoch, TimeSpan Elapsed, TimeSpan? Remaining)
{
    /// <summary>
    /// The time left if the remaining steps take as long as the timed ones did (validation included, as it recurs every
    /// epoch): <paramref name="elapsed"/> / <paramref name="stepsTimed"/> × <paramref name="stepsLeft"/>; null when no step was
    /// timed. Early stopping may end the run sooner.
    /// </summary>
    public static TimeSpan? EstimateRemaining(TimeSpan elapsed, int stepsTimed, int stepsLeft) =>
        stepsTimed <= 0 ? null
        : stepsLeft <= 0 ? TimeSpan.Zero
        : TimeSpan.FromTicks((long)Math.Min(TimeSpan.MaxValue.Ticks, (double)elapsed.Ticks / stepsTimed * stepsLeft));
}
