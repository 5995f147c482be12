using Microsoft.ML.Data;
using Microsoft.ML.PTuning;

namespace Microsoft.ML;

/// <summary>
/// Prefix tuning (P-Tuning v2) in ML.NET's transforms catalog: <c>mlContext.Transforms.Text.PrefixTuning(...)</c>.
/// </summary>
public static class PrefixTuningCatalog
{
    /// <summary>
    /// Trains a text classifier over a frozen BERT/RoBERTa-family encoder by prefix tuning (or a baseline method).
    /// Adds <see cref="PrefixTuningOptions.PredictionColumnName"/> (key) and
    /// <see cref="PrefixTuningTextClassificationOptions.ScoreColumnName"/> (class probabilities).
    /// </summary>
    public static PrefixTuningTextClassificationEstimator PrefixTuning(this TransformsCatalog.TextTransforms catalog,
        PrefixTuningTextClassificationOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return new PrefixTuningTextClassificationEstimator(CatalogUtils.GetEnvironment(catalog), options);
    }

    /// <summary>
    /// Trains a token classifier (e.g. NER) over a frozen BERT/RoBERTa-family encoder by prefix tuning (or a baseline).
    /// Adds <see cref="PrefixTuningOptions.PredictionColumnName"/>: one key per word of the sentence column.
    /// </summary>
    public static PrefixTuningTokenClassificationEstimator PrefixTuning(this TransformsCatalog.TextTransforms catalog,
        PrefixTuningTokenClassificationOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return new PrefixTuningTokenClassificationEstimator(CatalogUtils.GetEnvironment(catalog), options);
    }

    /// <summary>Text classification with the common arguments; see <see cref="PrefixTuningTextClassificationOptions"/> for all.</summary>
    /// <param name="catalog">The text transforms catalog.</param>
    /// <param name="baseModelPath">A Hugging Face model folder.</param>
    /// <param name="labelColumnName">The key-typed label column.</param>
    /// <param name="sentence1ColumnName">The text column.</param>
    /// <param name="sentence2ColumnName">The second text column of sentence pairs, or null.</param>
    /// <param name="prefixLength">Prefix vectors per layer.</param>
    /// <param name="maxEpochs">Passes over the training data.</param>
    /// <param name="validationSet">Optional validation data for early stopping and best-epoch selection.</param>
    public static PrefixTuningTextClassificationEstimator PrefixTuning(this TransformsCatalog.TextTransforms catalog,
        string baseModelPath, string labelColumnName = "Label", string sentence1ColumnName = "Sentence1",
        string? sentence2ColumnName = null, int prefixLength = 16, int maxEpochs = 10, IDataView? validationSet = null) =>
        catalog.PrefixTuning(new PrefixTuningTextClassificationOptions
        {
            BaseModelPath = baseModelPath,
            LabelColumnName = labelColumnName,
            Sentence1ColumnName = sentence1ColumnName,
            Sentence2ColumnName = sentence2ColumnName,
            PrefixLength = prefixLength,
            MaxEpochs = maxEpochs,
            ValidationSet = validationSet,
        });

    /// <summary>Token classification with the common arguments; see <see cref="PrefixTuningTokenClassificationOptions"/> for all.</summary>
    /// <param name="catalog">The text transforms catalog.</param>
    /// <param name="baseModelPath">A Hugging Face model folder.</param>
    /// <param name="labelColumnName">The label column: a vector of keys, one per word.</param>
    /// <param name="sentenceColumnName">The text column; words are split on white space.</param>
    /// <param name="prefixLength">Prefix vectors per layer.</param>
    /// <param name="maxEpochs">Passes over the training data.</param>
    /// <param name="validationSet">Optional validation data for early stopping and best-epoch selection.</param>
    public static PrefixTuningTokenClassificationEstimator PrefixTuningTokenClassification(this TransformsCatalog.TextTransforms catalog,
        string baseModelPath, string labelColumnName = "Label", string sentenceColumnName = "Sentence",
        int prefixLength = 16, int maxEpochs = 10, IDataView? validationSet = null) =>
        catalog.PrefixTuning(new PrefixTuningTokenClassificationOptions
        {
            BaseModelPath = baseModelPath,
            LabelColumnName = labelColumnName,
            SentenceColumnName = sentenceColumnName,
            PrefixLength = prefixLength,
            MaxEpochs = maxEpochs,
            ValidationSet = validationSet,
        });
}
