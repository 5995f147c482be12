namespace Microsoft.ML.PTuning.Cli.Data;

/// <summary>The CSV header names given by <c>--text-column</c>, <c>--text2-column</c> and <c>--label-column</c>.</summary>
internal sealed record TextColumnNames(string Text, string? Text2, string Label);
