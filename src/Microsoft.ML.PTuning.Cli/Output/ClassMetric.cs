namespace Microsoft.ML.PTuning.Cli.Output;

/// <summary>One class of a text classifier's evaluation.</summary>
internal sealed record ClassMetric(string Class, double LogLoss);
