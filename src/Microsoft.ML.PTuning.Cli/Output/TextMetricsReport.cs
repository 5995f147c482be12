namespace Microsoft.ML.PTuning.Cli.Output;

/// <summary>What <c>evaluate</c> reports for a text classifier (also its JSON).</summary>
internal sealed record TextMetricsReport(string Task, int Rows, double MicroAccuracy, double MacroAccuracy, double LogLoss,
    double LogLossReduction, IReadOnlyList<ClassMetric> PerClass);
