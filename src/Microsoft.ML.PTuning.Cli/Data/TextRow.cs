namespace Microsoft.ML.PTuning.Cli.Data;

/// <summary>A text to predict (read from lines or stdin).</summary>
internal sealed class TextRow
{
    public string Text { get; set; } = "";
}
