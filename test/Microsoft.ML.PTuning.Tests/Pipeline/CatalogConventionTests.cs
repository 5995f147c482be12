using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Pipeline;

/// <summary>An input row with no label: what an app predicting from text alone has.</summary>
public sealed class SentenceOnly
{
    public string? Sentence1 { get; set; }
}

/// <summary>
/// ML.NET's conventions: trainers under <c>MulticlassClassification.Trainers</c>, class names as the score column's
/// slot names, prediction from rows that carry no label.
/// </summary>
[Collection(PipelineCollection.Name)]
public class CatalogConventionTests(TrainedModels models)
{
    [Fact]
    public void TheTrainersCatalogEntriesBuildTheSameEstimatorsAsTheTransformsCatalog()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = TinyData.LoadSingle(mlContext, TinyData.Text(perClass: 8, seed: 1));
        var keyed = mlContext.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
        var options = TinyData.TextOptions(TinyBaseModel.Get(), epochs: 2);

        var trainer = mlContext.MulticlassClassification.Trainers.PrefixTuningTextClassification(options);
        var transform = mlContext.Transforms.Text.PrefixTuning(options);
        Assert.Same(options, trainer.Options);
        Assert.Equal(0f, TinyData.MaxDifference(TinyData.Scores(trainer.Fit(keyed).Transform(keyed)),
            TinyData.Scores(transform.Fit(keyed).Transform(keyed))));

        var simple = mlContext.MulticlassClassification.Trainers.PrefixTuningTextClassification("base", "L", "A", "B", prefixLength: 8, maxEpochs: 3);
        Assert.Equal(("base", "L", "A", "B", 8, 3), (simple.Options.BaseModelPath, simple.Options.LabelColumnName,
            simple.Options.Sentence1ColumnName, simple.Options.Sentence2ColumnName, simple.Options.PrefixLength, simple.Options.MaxEpochs));

        var tokens = TinyData.TokenOptions(TinyBaseModel.Get());
        Assert.Same(tokens, mlContext.MulticlassClassification.Trainers.PrefixTuningNamedEntityRecognition(tokens).Options);
        var ner = mlContext.MulticlassClassification.Trainers.PrefixTuningNamedEntityRecognition("base", "Tags", "Words", prefixLength: 8, maxEpochs: 3);
#pragma warning disable CS0618 // the old name is kept, forwarding, for code written against it
        var old = mlContext.Transforms.Text.PrefixTuningTokenClassification("base", "Tags", "Words", prefixLength: 8, maxEpochs: 3);
#pragma warning restore CS0618
        foreach (var estimator in new[] { ner, old })
        {
            Assert.Equal(("base", "Tags", "Words", 8, 3), (estimator.Options.BaseModelPath, estimator.Options.LabelColumnName,
                estimator.Options.SentenceColumnName, estimator.Options.PrefixLength, estimator.Options.MaxEpochs));
        }
    }

    [Fact]
    public void EachTaskHasItsOwnDefaultsAndTheCommonArgumentOverloadsTakeThem()
    {
        // The measured defaults differ by task (docs/BENCHMARKS.md, "Defaults"): a sequence-labelling prefix trains
        // longer, with more patience, than a sentence classifier's.
        static (int, int, int, double) Defaults(PrefixTuningOptions o) => (o.PrefixLength, o.MaxEpochs, o.EarlyStoppingPatience, o.EffectiveLearningRate);
        var text = new PrefixTuningTextClassificationOptions();
        var tokens = new PrefixTuningTokenClassificationOptions();
        Assert.True(tokens.MaxEpochs > text.MaxEpochs && tokens.EarlyStoppingPatience > text.EarlyStoppingPatience,
            $"token classification: {tokens.MaxEpochs} epochs, patience {tokens.EarlyStoppingPatience}; text: {text.MaxEpochs}, {text.EarlyStoppingPatience}");
        var (textDefaults, tokenDefaults) = (Defaults(text), Defaults(tokens));
        Assert.Equal((16, 10, 3, 3e-3), textDefaults);
        Assert.Equal((64, 30, 5, 3e-2), tokenDefaults);
        // The probe's and full fine-tuning's rates are the task's too (the converged profile's searches); prompt tuning
        // and P-Tuning v1 keep theirs.
        foreach (var (method, textRate, tokenRate) in new[]
        {
            (TuningMethod.LinearProbe, 1e-3, 1e-2), (TuningMethod.FullFineTuning, 3e-5, 3e-5), (TuningMethod.PromptTuning, 1e-2, 1e-2),
        })
        {
            text.Method = tokens.Method = method;
            Assert.Equal((textRate, tokenRate), (text.EffectiveLearningRate, tokens.EffectiveLearningRate));
        }

        var mlContext = new MLContext(seed: 1);
        Assert.Equal(textDefaults, Defaults(mlContext.MulticlassClassification.Trainers.PrefixTuningTextClassification("base").Options));
        Assert.Equal(textDefaults, Defaults(mlContext.Transforms.Text.PrefixTuning("base").Options));
        Assert.Equal(tokenDefaults, Defaults(mlContext.MulticlassClassification.Trainers.PrefixTuningNamedEntityRecognition("base").Options));
    }

    [Fact]
    public void TheScoreColumnNamesEachProbabilityByItsClass()
    {
        var prefix = TinyData.PrefixTuningOf(models.Text);
        var keyed = models.Context.Transforms.Conversion.MapValueToKey("Label").Fit(models.TextData).Transform(models.TextData);
        var score = prefix.GetOutputSchema(keyed.Schema)["Score"];
        Assert.Equal(TinyData.Classes, SlotNames(score));

        // The estimator promises the annotation, as ML.NET's multiclass trainers do, and a reloaded model keeps it.
        // (SchemaShape.Create is internal to ML.NET; estimators chained by apps call it.)
        var input = (SchemaShape)typeof(SchemaShape).GetMethod("Create", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Public
            | System.Reflection.BindingFlags.NonPublic, [typeof(DataViewSchema)])!.Invoke(null, [keyed.Schema])!;
        var shape = models.Context.Transforms.Text.PrefixTuning(TinyData.TextOptions(TinyBaseModel.Get())).GetOutputSchema(input);
        var promised = shape.Single(c => c.Name == "Score");
        Assert.Contains(promised.Annotations, a => a.Name == "SlotNames");
        string path = ModelZipTests.Save(models.Context, models.Text, models.TextData);
        var loaded = new MLContext().Model.Load(path, out _);
        Assert.Equal(TinyData.Classes, SlotNames(loaded.Transform(models.TextData).Schema["Score"]));
    }

    private static string[] SlotNames(DataViewSchema.Column column)
    {
        VBuffer<ReadOnlyMemory<char>> names = default;
        column.GetSlotNames(ref names);
        return names.DenseValues().Select(n => n.ToString()).ToArray();
    }

    [Fact]
    public void APredictionEngineOverRowsWithoutALabelPredictsWhatTransformDoes()
    {
        // The label's key mapping is fitted on the training data alone and applied before the estimator, so the model
        // that is saved starts at prefix tuning, which reads only the text: no label column, no dummy property.
        var mlContext = new MLContext(seed: 1);
        IDataView train = TinyData.LoadSingle(mlContext, TinyData.Text(perClass: 8, seed: 1));
        var labelToKey = mlContext.Transforms.Conversion.MapValueToKey("Label").Fit(train);
        var model = mlContext.Transforms.Text.PrefixTuning(TinyData.TextOptions(TinyBaseModel.Get(), epochs: 2))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedText", "PredictedLabel"))
            .Fit(labelToKey.Transform(train));
        IDataView sentences = mlContext.Data.LoadFromEnumerable(TinyData.Text(perClass: 4, seed: 5).Select(r => new SentenceOnly { Sentence1 = r.Sentence1 }));
        Assert.Null(sentences.Schema.GetColumnOrNull("Label"));
        string[] expected = model.Transform(sentences).GetColumn<string>("PredictedText").ToArray();

        string path = Path.Combine(TestPaths.NewTempFolder("zip"), "no-label.zip");
        mlContext.Model.Save(model, sentences.Schema, path);
        var fresh = new MLContext(seed: 2);
        var engine = fresh.Model.CreatePredictionEngine<SentenceOnly, TextPrediction>(fresh.Model.Load(path, out _));
        var rows = TinyData.Text(perClass: 4, seed: 5);
        Assert.Equal(expected, rows.Select(r => engine.Predict(new SentenceOnly { Sentence1 = r.Sentence1 }).PredictedText));
        Assert.All(expected, p => Assert.Contains(p, TinyData.Classes));
    }
}
