namespace Microsoft.ML.PTuning.Cli.Output;

/// <summary>One entity type of an entity tagger's evaluation.</summary>
internal sealed record EntityTypeReport(string Type, double Precision, double Recall, double F1, int Support);
