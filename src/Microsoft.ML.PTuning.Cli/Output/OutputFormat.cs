namespace Microsoft.ML.PTuning.Cli.Output;

/// <summary>How <c>predict</c> writes (<c>--output-format</c>).</summary>
internal enum OutputFormat
{
    /// <summary>By the output's extension: .json/.jsonl/.ndjson are JSON lines, anything else (and stdout) CSV.</summary>
    Auto,

    /// <summary>CSV with a header row.</summary>
    Csv,

    /// <summary>One JSON object per line.</summary>
    Jsonl,
}
