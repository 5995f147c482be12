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

    /// <summary>
    /// How the head reads the encoder's output (<see cref="PoolingMode"/>): the first token (<see cref="PoolingMode.Cls"/>,
    /// Hugging Face's heads), the mean over real tokens (<see cref="PoolingMode.Mean"/>, what sentence-transformers
    /// encoders are trained for), or <see cref="PoolingMode.Auto"/> (the default): <see cref="PoolingMode.Mean"/> for a
    /// sentence-transformers folder whose <c>1_Pooling/config.json</c> says mean pooling (the MiniLM ONNX import writes
    /// one), else <see cref="PoolingMode.Cls"/>. Every method uses it; the zip stores the resolved value.
    /// </summary>
    public PoolingMode Pooling { get; set; } = PoolingMode.Auto;

    internal override void Validate()
    {
        base.Validate();
        RequireName(Sentence1ColumnName, nameof(Sentence1ColumnName));
        if (Sentence2ColumnName != null)
            RequireName(Sentence2ColumnName, nameof(Sentence2ColumnName));
        RequireName(ScoreColumnName, nameof(ScoreColumnName));
        if (!Enum.IsDefined(Pooling))
            throw new ArgumentOutOfRangeException(nameof(Pooling), Pooling, $"Pooling must be one of {string.Join(", ", Enum.GetNames<PoolingMode>())}.");
        if (ScoreColumnName == PredictionColumnName)
            throw new ArgumentException($"ScoreColumnName and PredictionColumnName are both '{ScoreColumnName}'; they must differ.", nameof(ScoreColumnName));
    }
}
