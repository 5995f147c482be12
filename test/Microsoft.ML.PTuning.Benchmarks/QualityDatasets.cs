using Microsoft.ML.Data;
using Microsoft.ML.PTuning.Modeling;

namespace Microsoft.ML.PTuning.Benchmarks;

/// <summary>
/// What one quality run trains: the method and its adapter shape (PrefixDepth: the prefix in the top k layers only), and
/// whether batches are length-grouped or plainly shuffled (the library's default), the compute precision, and the pooling
/// of a text-classification head (Auto: what the base folder declares).
/// </summary>
internal sealed record MethodConfig(TuningMethod Method, int PrefixLength, bool Projection, int? PrefixDepth = null, bool GroupByLength = false,
    ComputePrecision Precision = ComputePrecision.Float32, PoolingMode Pooling = PoolingMode.Auto)
{
    /// <summary>Prefix (or prompt) length as the record reports it: 0 for methods without one.</summary>
    public int ReportedLength => Method is TuningMethod.PrefixTuning or TuningMethod.PromptTuning or TuningMethod.PTuningV1 ? PrefixLength : 0;

    public string Label => Method switch
    {
        TuningMethod.PrefixTuning => $"PT2 P={PrefixLength}" + (Projection ? " +proj" : "") + (PrefixDepth is int k ? $" k={k}" : "") + (GroupByLength ? " grouped" : ""),
        TuningMethod.PromptTuning => $"Prompt P={PrefixLength}",
        TuningMethod.LinearProbe => "Linear probe",
        TuningMethod.HandcraftedPrompt => "Handcrafted prompt (zero-shot)",
        TuningMethod.PTuningV1 => $"P-Tuning v1 Q={PrefixLength}",
        _ => "Full FT",
    } + (Precision == ComputePrecision.Float32 ? "" : $" {Precision}") + (Pooling == PoolingMode.Auto ? "" : $" {Pooling.ToString().ToLowerInvariant()}");
}

/// <summary>
/// A benchmark dataset behind the public API: fits a <c>mlContext.Transforms.Text.PrefixTuning</c> estimator with the
/// validation set for best-epoch selection, and evaluates the result on test with ML.NET's evaluators.
/// </summary>
internal abstract class QualityDataset
{
    protected QualityDataset(MLContext mlContext, string name, string metricName, string description, int classCount, TaskKind kind)
    {
        MLContext = mlContext;
        Name = name;
        MetricName = metricName;
        Description = description;
        ClassCount = classCount;
        Kind = kind;
    }

    protected MLContext MLContext { get; }
    public string Name { get; }
    public string MetricName { get; }
    public string Description { get; }
    public int ClassCount { get; }
    public TaskKind Kind { get; }
    protected IDataView Train { get; init; } = null!;
    protected IDataView Validation { get; init; } = null!;
    protected IDataView Test { get; init; } = null!;

    /// <summary>Trains through the public API; the options' common settings come from <paramref name="configure"/>.</summary>
    public abstract PrefixTuningTransformer Fit(Action<PrefixTuningOptions> configure);

    /// <summary>The headline metric on test, and macro-F1 where it applies.</summary>
    public abstract (double Metric, double? MacroF1) Evaluate(ITransformer model);

    /// <summary>Saves the trained transformer as an ML.NET model zip in the temp folder and returns its size in bytes (the zip is deleted).</summary>
    public long ZipBytes(ITransformer model)
    {
        string path = Path.Combine(Path.GetTempPath(), $"ptuning-bench-{Guid.NewGuid():N}.zip");
        try
        {
            MLContext.Model.SaveAtomically(model, Train.Schema, path);
            return new FileInfo(path).Length;
        }
        finally
        {
            File.Delete(path);
        }
    }
}

/// <summary>Banking77 intent classification: accuracy on test, macro-F1 from ML.NET's per-class precision and recall.</summary>
internal sealed class Banking77Dataset : QualityDataset
{
    private Banking77Dataset(MLContext mlContext, Splits<TextRow> splits, ITransformer toKey, int classCount, int maxTokens)
        : base(mlContext, splits.Name, "accuracy", splits.Description, classCount, TaskKind.SequenceClassification)
    {
        Train = toKey.Transform(mlContext.Data.LoadFromEnumerable(splits.Train));
        Validation = toKey.Transform(mlContext.Data.LoadFromEnumerable(splits.Validation));
        Test = toKey.Transform(mlContext.Data.LoadFromEnumerable(splits.Test));
        MaxTokens = maxTokens;
        // The masked-LM methods' verbalizer: each intent's own words ("card_arrival" → card, arrival; a class scores their mean).
        LabelWords = splits.Classes.ToDictionary(c => c, c => c.Split('_', StringSplitOptions.RemoveEmptyEntries));
    }

    private int MaxTokens { get; }

    /// <summary>The cloze template of the masked-LM rows (<c>{prompt}</c> for P-Tuning v1 takes the profile's prompt length).</summary>
    public static string PromptTemplate(TuningMethod method) =>
        (method == TuningMethod.PTuningV1 ? "{prompt} " : "") + "{Sentence1} This is about {mask}.";

    /// <summary>Label words per intent, for the masked-LM methods.</summary>
    public IReadOnlyDictionary<string, string[]> LabelWords { get; }

    public static Banking77Dataset Load(MLContext mlContext, string dataFolder, QualityProfile profile)
    {
        var splits = Datasets.Banking77(mlContext, dataFolder, profile.BankingTrain, profile.BankingValidation, profile.BankingTest);
        // Keys from every intent of the train file, so a subsample missing an intent still maps test labels the same way.
        var all = mlContext.Data.LoadFromEnumerable(splits.Classes.Select(c => new TextRow { Intent = c }));
        var toKey = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(TextRow.Intent)).Fit(all);
        return new Banking77Dataset(mlContext, splits, toKey, splits.Classes.Count, profile.BankingMaxTokens);
    }

    public override PrefixTuningTransformer Fit(Action<PrefixTuningOptions> configure)
    {
        var options = new PrefixTuningTextClassificationOptions
        {
            LabelColumnName = "Label",
            Sentence1ColumnName = nameof(TextRow.Text),
            MaxSequenceLength = MaxTokens,
            ValidationSet = Validation,
        };
        configure(options);
        return MLContext.Transforms.Text.PrefixTuning(options).Fit(Train);
    }

    public override (double Metric, double? MacroF1) Evaluate(ITransformer model)
    {
        var metrics = MLContext.MulticlassClassification.Evaluate(model.Transform(Test), "Label", "Score", "PredictedLabel");
        var precision = metrics.ConfusionMatrix.PerClassPrecision;
        var recall = metrics.ConfusionMatrix.PerClassRecall;
        // Macro-F1 over the classes present in test (a class absent from test has no defined recall).
        var f1 = Enumerable.Range(0, precision.Count)
            .Where(c => metrics.ConfusionMatrix.Counts[c].Sum() > 0)
            .Select(c => precision[c] + recall[c] > 0 ? 2 * precision[c] * recall[c] / (precision[c] + recall[c]) : 0.0)
            .ToList();
        return (metrics.MicroAccuracy, f1.Count > 0 ? f1.Average() : 0.0);
    }
}

/// <summary>WNUT-17 emerging-entity NER: entity micro-F1 on test (seqeval semantics), macro-F1 over entity types.</summary>
internal sealed class Wnut17Dataset : QualityDataset
{
    private Wnut17Dataset(MLContext mlContext, Splits<TaggedRow> splits, ITransformer toKey, int classCount, int maxTokens)
        : base(mlContext, splits.Name, "entity F1", splits.Description, classCount, TaskKind.TokenClassification)
    {
        Train = toKey.Transform(mlContext.Data.LoadFromEnumerable(splits.Train));
        Validation = toKey.Transform(mlContext.Data.LoadFromEnumerable(splits.Validation));
        Test = toKey.Transform(mlContext.Data.LoadFromEnumerable(splits.Test));
        MaxTokens = maxTokens;
    }

    private int MaxTokens { get; }

    public static Wnut17Dataset Load(MLContext mlContext, string dataFolder, QualityProfile profile)
    {
        var splits = Datasets.Wnut17(dataFolder, profile.WnutTrain, profile.WnutValidation, profile.WnutTest);
        // Keys from every tag of the train file (see Banking77Dataset.Load).
        var all = mlContext.Data.LoadFromEnumerable(new[] { new TaggedRow { Tags = splits.Classes.ToArray() } });
        var toKey = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(TaggedRow.Tags)).Fit(all);
        return new Wnut17Dataset(mlContext, splits, toKey, splits.Classes.Count, profile.WnutMaxTokens);
    }

    public override PrefixTuningTransformer Fit(Action<PrefixTuningOptions> configure)
    {
        var options = new PrefixTuningTokenClassificationOptions
        {
            LabelColumnName = "Label",
            SentenceColumnName = nameof(TaggedRow.Text),
            MaxSequenceLength = MaxTokens,
            ValidationSet = Validation,
        };
        configure(options);
        return MLContext.Transforms.Text.PrefixTuning(options).Fit(Train);
    }

    public override (double Metric, double? MacroF1) Evaluate(ITransformer model)
    {
        EntityMetrics metrics = MLContext.MulticlassClassification.EvaluateEntities(model.Transform(Test), "Label", "PredictedLabel");
        return (metrics.F1, metrics.MacroF1);
    }
}
