using Microsoft.ML.Data;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.PTuning.Tests.Pipeline;

[Collection(PipelineCollection.Name)]
public class SentencePairTests(ITestOutputHelper output)
{
    [Fact]
    public void APairTaskDecidedByTheSecondSentenceIsLearnedAndReadsIt()
    {
        var mlContext = new MLContext(seed: 1);
        TextRow[] rows = TinyData.Pairs(perClass: 16, seed: 4);
        IDataView train = TinyData.Load(mlContext, rows);
        var options = TinyData.TextOptions(TinyBaseModel.Get());
        options.Sentence2ColumnName = nameof(TextRow.Sentence2);
        ITransformer model = TinyData.TextPipeline(mlContext, options).Fit(train);

        var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(train));
        output.WriteLine($"pair accuracy {metrics.MicroAccuracy:P1}");
        // The first sentence is filler only: better than chance means the second sentence was read.
        Assert.True(metrics.MicroAccuracy > 0.55, $"accuracy {metrics.MicroAccuracy:P1} (chance 33 %)");

        // Same first sentence, second sentences of different classes: the scores follow the second sentence.
        var probes = TinyData.Classes.Select((c, i) => new TextRow
        {
            Sentence1 = "the dog is on my",
            Sentence2 = string.Join(' ', TinyData.Keywords[i]),
            Label = c,
        }).ToArray();
        float[][] scores = TinyData.Scores(model.Transform(TinyData.Load(mlContext, probes)));
        Assert.True(TinyData.MaxDifference([scores[0]], [scores[1]]) > 1e-3);
        Assert.True(TinyData.MaxDifference([scores[1]], [scores[2]]) > 1e-3);

        // Swapping each row's second sentence for one of the next class lowers the probability of the row's label.
        var swapped = rows.Select((r, i) => new TextRow { Sentence1 = r.Sentence1, Sentence2 = rows[(i + 1) % rows.Length].Sentence2, Label = r.Label }).ToArray();
        double Probability(TextRow[] data) =>
            TinyData.Scores(model.Transform(TinyData.Load(mlContext, data))).Select((s, i) => s[Array.IndexOf(TinyData.Classes, data[i].Label)]).Average();
        double right = Probability(rows), wrong = Probability(swapped);
        output.WriteLine($"mean probability of the label: {right:F3} with its second sentence, {wrong:F3} with another class's");
        Assert.True(right > wrong + 0.05, $"{right:F3} vs {wrong:F3}");
    }
}
