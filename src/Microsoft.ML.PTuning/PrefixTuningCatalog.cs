using Microsoft.ML.Data;
using Microsoft.ML.PTuning;

namespace Microsoft.ML;

/// <summary>
/// Prefix tuning (P-Tuning v2) in ML.NET's catalogs: <c>mlContext.Transforms.Text.PrefixTuning(...)</c> for both tasks,
/// and, where ML.NET puts trainers, <c>mlContext.MulticlassClassification.Trainers.PrefixTuningTextClassification(...)</c>
/// and <c>PrefixTuningNamedEntityRecognition(...)</c>. Each name takes the task's options class or the common arguments.
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
        string? sentence2ColumnName = null, int prefixLength = PrefixTuningTextClassificationOptions.DefaultPrefixLength,
        int maxEpochs = PrefixTuningTextClassificationOptions.DefaultMaxEpochs, IDataView? validationSet = null) =>
        catalog.PrefixTuning(TextOptions(baseModelPath, labelColumnName, sentence1ColumnName, sentence2ColumnName, prefixLength, maxEpochs,
            validationSet));

    /// <summary>Token classification with the common arguments; now <c>mlContext.MulticlassClassification.Trainers.PrefixTuningNamedEntityRecognition</c>.</summary>
    /// <param name="catalog">The text transforms catalog.</param>
    /// <param name="baseModelPath">A Hugging Face model folder.</param>
    /// <param name="labelColumnName">The label column: a vector of keys, one per word.</param>
    /// <param name="sentenceColumnName">The text column; words are split on white space.</param>
    /// <param name="prefixLength">Prefix vectors per layer.</param>
    /// <param name="maxEpochs">Passes over the training data.</param>
    /// <param name="validationSet">Optional validation data for early stopping and best-epoch selection.</param>
    [Obsolete("Use mlContext.MulticlassClassification.Trainers.PrefixTuningNamedEntityRecognition(baseModelPath, ...), or " +
        "mlContext.Transforms.Text.PrefixTuning(new PrefixTuningTokenClassificationOptions { ... }).")]
    public static PrefixTuningTokenClassificationEstimator PrefixTuningTokenClassification(this TransformsCatalog.TextTransforms catalog,
        string baseModelPath, string labelColumnName = "Label", string sentenceColumnName = "Sentence",
        int prefixLength = PrefixTuningTokenClassificationOptions.DefaultPrefixLength,
        int maxEpochs = PrefixTuningTokenClassificationOptions.DefaultMaxEpochs, IDataView? validationSet = null) =>
        catalog.PrefixTuning(TokenOptions(baseModelPath, labelColumnName, sentenceColumnName, prefixLength, maxEpochs, validationSet));

    // The trainers catalog: where ML.NET puts estimators that learn from a label (its own TorchSharp trainers
    // TextClassification and NamedEntityRecognition are there). The names carry the library's prefix, so that an app
    // referencing Microsoft.ML.TorchSharp too never binds a call to the other library's overload of the same name.

    /// <summary>
    /// Trains a text classifier (single sentences or pairs) over a frozen BERT/RoBERTa-family encoder by prefix tuning:
    /// the same estimator as <c>mlContext.Transforms.Text.PrefixTuning(options)</c>, under ML.NET's trainers catalog.
    /// Adds <see cref="PrefixTuningOptions.PredictionColumnName"/> (key) and
    /// <see cref="PrefixTuningTextClassificationOptions.ScoreColumnName"/> (class probabilities, the class names as slot names).
    /// </summary>
    /// <param name="catalog">The multiclass classification trainers catalog.</param>
    /// <param name="options">Every option of the run.</param>
    public static PrefixTuningTextClassificationEstimator PrefixTuningTextClassification(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, PrefixTuningTextClassificationOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return new PrefixTuningTextClassificationEstimator(CatalogUtils.GetEnvironment(catalog), options);
    }

    /// <summary>Text classification with the common arguments; see <see cref="PrefixTuningTextClassificationOptions"/> for all.</summary>
    /// <param name="catalog">The multiclass classification trainers catalog.</param>
    /// <param name="baseModelPath">A Hugging Face model folder.</param>
    /// <param name="labelColumnName">The key-typed label column.</param>
    /// <param name="sentence1ColumnName">The text column.</param>
    /// <param name="sentence2ColumnName">The second text column of sentence pairs, or null.</param>
    /// <param name="prefixLength">Prefix vectors per layer.</param>
    /// <param name="maxEpochs">Passes over the training data.</param>
    /// <param name="validationSet">Optional validation data for early stopping and best-epoch selection.</param>
    public static PrefixTuningTextClassificationEstimator PrefixTuningTextClassification(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string baseModelPath, string labelColumnName = "Label", string sentence1ColumnName = "Sentence1",
        string? sentence2ColumnName = null, int prefixLength = PrefixTuningTextClassificationOptions.DefaultPrefixLength,
        int maxEpochs = PrefixTuningTextClassificationOptions.DefaultMaxEpochs, IDataView? validationSet = null) =>
        catalog.PrefixTuningTextClassification(TextOptions(baseModelPath, labelColumnName, sentence1ColumnName, sentence2ColumnName,
            prefixLength, maxEpochs, validationSet));

    /// <summary>
    /// Trains a token classifier (named-entity recognition, or any tag per word) over a frozen BERT/RoBERTa-family
    /// encoder by prefix tuning: the same estimator as <c>mlContext.Transforms.Text.PrefixTuning(options)</c>, under
    /// ML.NET's trainers catalog. Adds <see cref="PrefixTuningOptions.PredictionColumnName"/>: one key per word.
    /// </summary>
    /// <param name="catalog">The multiclass classification trainers catalog.</param>
    /// <param name="options">Every option of the run.</param>
    public static PrefixTuningTokenClassificationEstimator PrefixTuningNamedEntityRecognition(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, PrefixTuningTokenClassificationOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return new PrefixTuningTokenClassificationEstimator(CatalogUtils.GetEnvironment(catalog), options);
    }

    /// <summary>Token classification with the common arguments; see <see cref="PrefixTuningTokenClassificationOptions"/> for all.</summary>
    /// <param name="catalog">The multiclass classification trainers catalog.</param>
    /// <param name="baseModelPath">A Hugging Face model folder.</param>
    /// <param name="labelColumnName">The label column: a vector of keys, one per word.</param>
    /// <param name="sentenceColumnName">The text column; words are split on white space.</param>
    /// <param name="prefixLength">Prefix vectors per layer.</param>
    /// <param name="maxEpochs">Passes over the training data.</param>
    /// <param name="validationSet">Optional validation data for early stopping and best-epoch selection.</param>
    public static PrefixTuningTokenClassificationEstimator PrefixTuningNamedEntityRecognition(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string baseModelPath, string labelColumnName = "Label", string sentenceColumnName = "Sentence",
        int prefixLength = PrefixTuningTokenClassificationOptions.DefaultPrefixLength,
        int maxEpochs = PrefixTuningTokenClassificationOptions.DefaultMaxEpochs, IDataView? validationSet = null) =>
        catalog.PrefixTuningNamedEntityRecognition(TokenOptions(baseModelPath, labelColumnName, sentenceColumnName, prefixLength, maxEpochs,
            validationSet));

    private static PrefixTuningTextClassificationOptions TextOptions(string baseModelPath, string labelColumnName, string sentence1ColumnName,
        string? sentence2ColumnName, int prefixLength, int maxEpochs, IDataView? validationSet) => new()
        {
            BaseModelPath = baseModelPath,
            LabelColumnName = labelColumnName,
            Sentence1ColumnName = sentence1ColumnName,
            Sentence2ColumnName = sentence2ColumnName,
            PrefixLength = prefixLength,
            MaxEpochs = maxEpochs,
            ValidationSet = validationSet,
        };

    private static PrefixTuningTokenClassificationOptions TokenOptions(string baseModelPath, string labelColumnName, string sentenceColumnName,
        int prefixLength, int maxEpochs, IDataView? validationSet) => new()
        {
            BaseModelPath = baseModelPath,
            LabelColumnName = labelColumnName,
            SentenceColumnName = sentenceColumnName,
            PrefixLength = prefixLength,
            MaxEpochs = maxEpochs,
            ValidationSet = validationSet,
        };
}
