namespace Microsoft.ML.PTuning.Cli.Data;

/// <summary>
/// The column names the tool gives its data views, whatever the file calls them: a model zip trained by the tool reads
/// <see cref="Text"/> (and <see cref="Text2"/> for pairs), so predict and evaluate find them again.
/// </summary>
internal static class DataColumns
{
    public const string Text = "Text";
    public const string Text2 = "Text2";
    public const string LabelText = "LabelText";
    public const string Label = "Label";
    public const string Tags = "Tags";
    public const string PredictedLabel = "PredictedLabel";
    public const string Score = "Score";
}
