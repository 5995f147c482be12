namespace Microsoft.ML.PTuning.Cli.Output;

/// <summary>What <c>evaluate</c> reports for an entity tagger (also its JSON): seqeval-style entity metrics.</summary>
internal sealed record EntityMetricsReport(string Task, int Sentences, double Precision, double Recall, double F1, double MacroF1,
    double TokenAccuracy, IReadOnlyList<EntityTypeReport> PerEntityType);
