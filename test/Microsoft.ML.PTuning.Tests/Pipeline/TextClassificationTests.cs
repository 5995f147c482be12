using Microsoft.ML.Data;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.PTuning.Tests.Pipeline;

[Collection(PipelineCollection.Name)]
public class TextClassificationTests(TrainedModels models, ITestOutputHelper output)
{
    [Theory]
    [InlineData(TuningMethod.PrefixTuning, "roberta")]
    [InlineData(TuningMethod.PromptTuning, "roberta")]
    [InlineData(TuningMethod.FullFineTuning, "roberta")]
    [InlineData(TuningMethod.LinearProbe, "roberta")]
    [InlineData(TuningMethod.PrefixTuning, "bert")]
    public void EveryMethodFitsAndTransformsWithScoresThatAreProbabilities(TuningMethod method, string modelType)
    {
        var mlContext = new MLContext(seed: 1);
        IDataView train = TinyData.LoadSingle(mlContext, TinyData.Text(perClass: 16, seed: 1));
        ITransformer model = TinyData.TextPipeline(mlContext, TinyData.TextOptions(TinyBaseModel.Get(modelType), method)).Fit(train);
        IDataView scored = model.Transform(train);

        var predicted = scored.Schema["PredictedLabel"];
        var key = Assert.IsType<KeyDataViewType>(predicted.Type);
        Assert.Equal(3UL, key.Count);
        VBuffer<ReadOnlyMemory<char>> keyValues = default;
        predicted.GetKeyValues(ref keyValues);
        Assert.Equal(TinyData.Classes, keyValues.DenseValues().Select(v => v.ToString()));
        var score = Assert.IsType<VectorDataViewType>(scored.Schema["Score"].Type);
        Assert.Equal(NumberDataViewType.Single, score.ItemType);
        Assert.Equal(3, score.Size);

        float[][] scores = TinyData.Scores(scored);
        Assert.Equal(48, scores.Length);
        Assert.All(scores, s => Assert.InRange(s.Sum(), 0.999f, 1.001f));
        Assert.All(scores, s => Assert.All(s, p => Assert.InRange(p, 0f, 1f)));

        // PredictedLabel is the arg-max of Score, and MapKeyToValue turns it into the class name.
        uint[] keys = scored.GetColumn<uint>("PredictedLabel").ToArray();
        string[] text = scored.GetColumn<string>("PredictedText").ToArray();
        for (int i = 0; i < keys.Length; i++)
        {
            Assert.Equal(Array.IndexOf(scores[i], scores[i].Max()) + 1, (int)keys[i]);
            Assert.Equal(TinyData.Classes[keys[i] - 1], text[i]);
        }

        var metrics = mlContext.MulticlassClassification.Evaluate(scored);
        output.WriteLine($"{method} {modelType}: training accuracy {metrics.MicroAccuracy:P1}, log-loss {metrics.LogLoss:F3}");
        // Better than the uniform guess (log-loss ln 3): every method learns something of the keyword task.
        Assert.True(metrics.LogLoss < Math.Log(3) - 0.02, $"{method}: log-loss {metrics.LogLoss:F3} is no better than chance");
        if (method == TuningMethod.PrefixTuning)
            Assert.True(metrics.MicroAccuracy > 0.55, $"prefix tuning should learn the keyword task; accuracy {metrics.MicroAccuracy:P1} (chance 33 %)");
    }

    [Fact]
    public void PrefixProjectionLearnsTheKeywordTaskAtItsDefaultRate()
    {
        // The MLP form once trained at the head's rate: AdamW's per-weight steps, summed by the MLP's 512-wide output
        // layer, blew the prefix up until every sentence looked the same (chance accuracy on Banking77; this test gave
        // 33.3 % with PrefixProjectionLearningRate = 3e-2, the head's rate).
        var mlContext = new MLContext(seed: 1);
        IDataView train = TinyData.LoadSingle(mlContext, TinyData.Text(perClass: 16, seed: 1));
        var options = TinyData.TextOptions(TinyBaseModel.Get("roberta"));
        options.PrefixProjection = true;
        ITransformer model = TinyData.TextPipeline(mlContext, options).Fit(train);
        var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(train));
        output.WriteLine($"projection: training accuracy {metrics.MicroAccuracy:P1}, log-loss {metrics.LogLoss:F3}");
        Assert.True(metrics.MicroAccuracy > 0.55, $"prefix tuning with projection should learn the keyword task; accuracy {metrics.MicroAccuracy:P1} (chance 33 %)");
    }

    [Fact]
    public void TheTransformerReportsWhatItTrained()
    {
        var prefix = TinyData.PrefixTuningOf(models.Text);
        Assert.Equal(TuningMethod.PrefixTuning, prefix.Method);
        Assert.Equal(4, prefix.PrefixLength);
        Assert.Equal(TinyData.Classes, prefix.ClassNames);
        // Folded prefix [4, 2·2·32] plus the RoBERTa head (dense 32×32 + 32, out_proj 32×3 + 3).
        Assert.Equal(4 * 2 * 2 * 32 + 32 * 32 + 32 + 32 * 3 + 3, prefix.TrainedParameterCount);
    }

    [Fact]
    public void DataWithoutTheLabelColumnIsScored()
    {
        var rows = new[] { new { Sentence1 = "my card was lost" }, new { Sentence1 = "transfer euros to savings" } };
        IDataView data = models.Context.Data.LoadFromEnumerable(rows);
        var prefix = TinyData.PrefixTuningOf(models.Text);
        float[][] scores = TinyData.Scores(prefix.Transform(data));
        Assert.Equal(2, scores.Length);
        Assert.All(scores, s => Assert.InRange(s.Sum(), 0.999f, 1.001f));
    }

    [Fact]
    public void AVeryLongTextIsTruncatedAndClassified()
    {
        var random = new Random(3);
        string longText = string.Join(' ', Enumerable.Range(0, 3000).Select(_ => TinyData.Keywords[0][random.Next(3)] + " " + TinyData.Filler[random.Next(TinyData.Filler.Length)]));
        var rows = new[] { new TextRow { Sentence1 = longText, Label = "card" }, new TextRow { Sentence1 = "card block", Label = "card" } };
        IDataView scored = models.Text.Transform(TinyData.LoadSingle(models.Context, rows));
        float[][] scores = TinyData.Scores(scored);
        Assert.All(scores, s => Assert.InRange(s.Sum(), 0.999f, 1.001f));
        Assert.All(scores, s => Assert.All(s, v => Assert.True(float.IsFinite(v))));
    }

    [Fact]
    public void TransformIsLazyAndRepeatable()
    {
        IDataView scored = models.Text.Transform(models.TextData);
        float[][] first = TinyData.Scores(scored);
        float[][] second = TinyData.Scores(scored);
        Assert.Equal(0f, TinyData.MaxDifference(first, second));
        // Reading only pass-through columns runs no model and still gives every row.
        Assert.Equal(48, scored.GetColumn<string>("Sentence1").Count());
    }
}
