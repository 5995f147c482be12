using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Pipeline;

[Collection(PipelineCollection.Name)]
public class BadInputTests(TrainedModels models)
{
    private sealed class NumericTextRow
    {
        public float Sentence1 { get; set; }
        public string Label { get; set; } = "";
    }

    private static IDataView Keyed(MLContext mlContext, IDataView data) =>
        mlContext.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);

    private static PrefixTuningTextClassificationEstimator Estimator(MLContext mlContext, Action<PrefixTuningTextClassificationOptions>? change = null)
    {
        var options = TinyData.TextOptions(TinyBaseModel.Get(), epochs: 1);
        change?.Invoke(options);
        return mlContext.Transforms.Text.PrefixTuning(options);
    }

    [Fact]
    public void AMissingTextColumnIsNamedWithItsOption()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = Keyed(mlContext, TinyData.LoadSingle(mlContext, TinyData.Text(2, 1)));
        var estimator = Estimator(mlContext, o => o.Sentence1ColumnName = "Text");
        var error = Assert.ThrowsAny<ArgumentException>(() => estimator.Fit(data));
        Assert.Contains("'Text'", error.Message);
        Assert.Contains("Sentence1ColumnName", error.Message);

        // At prediction time too: a trained transformer applied to data without its text column.
        var prefix = TinyData.PrefixTuningOf(models.Text);
        IDataView other = mlContext.Data.LoadFromEnumerable(new[] { new { Text = "card" } });
        error = Assert.ThrowsAny<ArgumentException>(() => prefix.Transform(other));
        Assert.Contains("'Sentence1'", error.Message);
    }

    [Fact]
    public void AWronglyTypedTextColumnNamesTheExpectedAndActualType()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = Keyed(mlContext, mlContext.Data.LoadFromEnumerable(new[] { new NumericTextRow { Sentence1 = 1, Label = "a" }, new NumericTextRow { Sentence1 = 2, Label = "b" } }));
        var error = Assert.ThrowsAny<ArgumentException>(() => Estimator(mlContext).Fit(data));
        Assert.Contains("'Sentence1'", error.Message);
        Assert.Contains("String", error.Message);
        Assert.Contains("Single", error.Message);
    }

    [Fact]
    public void ALabelThatIsNotAKeyIsRejected()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = TinyData.LoadSingle(mlContext, TinyData.Text(2, 1));
        var error = Assert.ThrowsAny<ArgumentException>(() => Estimator(mlContext).Fit(data));
        Assert.Contains("'Label'", error.Message);
        Assert.Contains("key", error.Message);
        Assert.Contains("MapValueToKey", error.Message);
    }

    [Fact]
    public void TokenLabelsThatDoNotMatchTheWordsNameTheRow()
    {
        var mlContext = new MLContext(seed: 1);
        var rows = TinyData.Tokens(4, 1).ToList();
        rows[2] = new TokenRow { Sentence = "my card was lost", Tags = ["O", "B-CARD"] };
        IDataView data = TinyData.Load(mlContext, rows);
        var pipeline = TinyData.TokenPipeline(mlContext, TinyData.TokenOptions(TinyBaseModel.Get(), epochs: 1));
        var error = Assert.Throws<InvalidOperationException>(() => pipeline.Fit(data));
        Assert.Contains("row 2", error.Message);
        Assert.Contains("2 labels", error.Message);
        Assert.Contains("4 words", error.Message);
    }

    [Theory]
    [InlineData(nameof(PrefixTuningOptions.PrefixLength))]
    [InlineData(nameof(PrefixTuningOptions.BatchSize))]
    [InlineData(nameof(PrefixTuningOptions.MaxEpochs))]
    [InlineData(nameof(PrefixTuningOptions.LearningRate))]
    [InlineData(nameof(PrefixTuningOptions.PrefixProjectionLearningRate))]
    [InlineData(nameof(PrefixTuningOptions.BaseModelPath))]
    [InlineData(nameof(PrefixTuningOptions.MaxSequenceLength))]
    [InlineData(nameof(PrefixTuningOptions.HiddenDropout))]
    [InlineData(nameof(PrefixTuningTextClassificationOptions.ScoreColumnName))]
    public void ABadOptionValueThrowsNamingTheOption(string option)
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = Keyed(mlContext, TinyData.LoadSingle(mlContext, TinyData.Text(2, 1)));
        var estimator = Estimator(mlContext, o =>
        {
            switch (option)
            {
                case nameof(o.PrefixLength):
                    o.PrefixLength = 0;
                    break;
                case nameof(o.BatchSize):
                    o.BatchSize = 0;
                    break;
                case nameof(o.MaxEpochs):
                    o.MaxEpochs = -1;
                    break;
                case nameof(o.LearningRate):
                    o.LearningRate = double.NaN;
                    break;
                case nameof(o.PrefixProjectionLearningRate):
                    o.PrefixProjectionLearningRate = -1e-3;
                    break;
                case nameof(o.BaseModelPath):
                    o.BaseModelPath = null;
                    break;
                case nameof(o.MaxSequenceLength):
                    o.MaxSequenceLength = 1;
                    break;
                case nameof(o.HiddenDropout):
                    o.HiddenDropout = 1.5;
                    break;
                case nameof(o.ScoreColumnName):
                    o.ScoreColumnName = o.PredictionColumnName;
                    break;
            }
        });
        var error = Assert.ThrowsAny<ArgumentException>(() => estimator.Fit(data));
        Assert.Equal(option, error.ParamName);
        Assert.Contains(option, error.Message);
    }

    [Fact]
    public void ABaseModelPathThatDoesNotExistIsNamed()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = Keyed(mlContext, TinyData.LoadSingle(mlContext, TinyData.Text(2, 1)));
        string missing = Path.Combine(Path.GetTempPath(), "ptuning-no-such-base-" + Guid.NewGuid().ToString("N"));
        var error = Assert.ThrowsAny<IOException>(() => Estimator(mlContext, o => o.BaseModelPath = missing).Fit(data));
        Assert.Contains(missing, error.Message);
    }

    [Fact]
    public void OddTextIsScoredWithoutError()
    {
        string[] texts =
        [
            "",
            "   ",
            "😀🎉 card 👍🏽",
            "مرحبا بالعالم card",
            "zero\u200Bwidth\u200Djoiner\uFEFF card",
            "lone \uD800 surrogate \uDC00 here",
            "control \u0000\u0001\u0007 chars",
            "e\u0301 combining \u0301",
            new string('a', 20_000),
            string.Join(' ', Enumerable.Repeat("money", 5_000)),
        ];
        var mlContext = models.Context;
        var rows = texts.Select(t => new TextRow { Sentence1 = t, Label = "card" }).Append(new TextRow { Sentence1 = null, Label = "card" }).ToArray();
        float[][] scores = TinyData.Scores(models.Text.Transform(TinyData.LoadSingle(mlContext, rows)));
        Assert.Equal(rows.Length, scores.Length);
        Assert.All(scores, s => Assert.InRange(s.Sum(), 0.999f, 1.001f));

        var engine = mlContext.Model.CreatePredictionEngine<TextRow, TextPrediction>(models.Text);
        foreach (var row in rows)
            Assert.Contains(engine.Predict(row).PredictedText, TinyData.Classes);

        var tokenRows = texts.Select(t => new { Sentence = t }).ToArray();
        var prefix = TinyData.PrefixTuningOf(models.Tokens);
        uint[][] tags = prefix.Transform(mlContext.Data.LoadFromEnumerable(tokenRows)).GetColumn<uint[]>("PredictedLabel").ToArray();
        Assert.Equal(texts.Select(t => t.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length), tags.Select(t => t.Length));
    }

    [Fact]
    public void TrainingOnOddTextDoesNotCrash()
    {
        var mlContext = new MLContext(seed: 1);
        var rows = TinyData.Text(2, 1).Concat(
        [
            new TextRow { Sentence1 = "", Label = "card" },
            new TextRow { Sentence1 = null, Label = "money" },
            new TextRow { Sentence1 = "😀 \uD800 \u200B مرحبا", Label = "transfer" },
            new TextRow { Sentence1 = string.Join(' ', Enumerable.Repeat("card", 500)), Label = "card" },
        ]).ToArray();
        ITransformer model = TinyData.TextPipeline(mlContext, TinyData.TextOptions(TinyBaseModel.Get(), epochs: 1)).Fit(TinyData.LoadSingle(mlContext, rows));
        Assert.Equal(rows.Length, TinyData.Scores(model.Transform(TinyData.LoadSingle(mlContext, rows))).Length);
    }
}
