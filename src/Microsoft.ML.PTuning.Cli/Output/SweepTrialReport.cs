namespace Microsoft.ML.PTuning.Cli.Output;

/// <summary>One trial of a sweep report.</summary>
internal sealed record SweepTrialReport(int Index, int PrefixLength, double LearningRate, string Status, int EpochsRun, int BestEpoch,
    double? BestMetric, IReadOnlyList<double> ValidationMetrics, long TrainableParameters, double WallTimeSeconds);
