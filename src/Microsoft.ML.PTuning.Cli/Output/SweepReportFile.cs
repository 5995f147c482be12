namespace Microsoft.ML.PTuning.Cli.Output;

/// <summary>The JSON report of <c>ptuning sweep</c>: every trial and which one won.</summary>
internal sealed record SweepReportFile(string Strategy, string Metric, int BestTrial, double ElapsedSeconds, int TotalEpochs,
    int BaseModelLoads, string BestModel, IReadOnlyList<SweepTrialReport> Trials)
{
    public static SweepReportFile From(PrefixTuningSweepResult result, string metric, string bestModel) => new(
        result.Strategy.ToString(), metric, result.BestTrial.Index, result.Elapsed.TotalSeconds, result.TotalEpochs, result.BaseModelLoads, bestModel,
        result.Trials.Select(t => new SweepTrialReport(t.Index, t.PrefixLength, t.LearningRate, t.Status.ToString(), t.EpochsRun,
            t.BestEpoch, double.IsNaN(t.BestMetric) ? null : t.BestMetric, t.ValidationMetrics, t.TrainableParameters, t.WallTime.TotalSeconds)).ToArray());
}
