namespace Microsoft.ML.PTuning.Training;

/// <summary>What one epoch produced.</summary>
internal sealed record EpochRecord(int Epoch, double MeanLoss, double? ValidationMetric, TimeSpan Duration);
