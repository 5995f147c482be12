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
internal sealed record TrainingReport(int Epoch, int MaxEpochs, int Step, int TotalSteps, double Loss, double? ValidationMetric,
    double ExamplesPerSecond, bool EndOfEpoch);
