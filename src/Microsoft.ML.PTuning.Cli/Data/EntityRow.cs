namespace Microsoft.ML.PTuning.Cli.Data;

/// <summary>A CoNLL sentence: its words joined by spaces (the library splits them again) and one tag per word.</summary>
internal sealed class EntityRow
{
    public string Text { get; set; } = "";
    public string[] Tags { get; set; } = [];
}
