namespace Microsoft.ML.PTuning;

/// <summary>
/// Options for prefix-tuned text classification of single sentences or sentence pairs. Input: a key-typed label
/// column and one or two text columns. Output: <see cref="PrefixTuningOptions.PredictionColumnName"/> (key, the
/// label's key values) and <see cref="ScoreColumnName"/> (vector of class probabilities).
/// </summary>
public sealed class PrefixTuningTextClassificationOptions : PrefixTuningOptions
{
    /// <summary>The text column (first sentence of a pair).</summary>
    public string Sentence1ColumnName { get; set; } = "Sentence1";

    /// <summary>The second sentence of a pair, or null for single-sentence classification.</summary>
    public string? Sentence2ColumnName { get; set; }

    /// <summary>Name of the score column: one probability per class, summing to 1.</summary>
    public string ScoreColumnName { get; set; } = "Score";

    internal override void Validate()
    {
        base.Validate();
        RequireName(Sentence1ColumnName, nameof(Sentence1ColumnName));
        if (Sentence2ColumnName != null)
            RequireName(Sentence2ColumnName, nameof(Sentence2ColumnName));
        RequireName(ScoreColumnName, nameof(ScoreColumnName));
        if (ScoreColumnName == PredictionColumnName)
            throw new ArgumentException($"ScoreColumnName and PredictionColumnName are both '{ScoreColumnName}'; they must differ.", nameof(ScoreColumnName));
    }
}
