using Microsoft.ML.Data;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.PTuning.Tests.Pipeline;

[Collection(PipelineCollection.Name)]
public class TokenClassificationTests(TrainedModels models, ITestOutputHelper output)
{
    private static readonly string[] TagNames = ["O", "B-CARD", "B-MONEY", "B-TRANSFER"];

    /// <summary>Share of words whose predicted tag is the gold one.</summary>
    private static double WordAccuracy(IEnumerable<string[]> gold, IEnumerable<string[]> predicted) =>
        gold.Zip(predicted).SelectMany(p => p.First.Zip(p.Second)).Average(p => p.First == p.Second ? 1.0 : 0.0);

    [Theory]
    [InlineData("roberta", TuningMethod.PrefixTuning)]
    [InlineData("bert", TuningMethod.PrefixTuning)]
    [InlineData("roberta", TuningMethod.LinearProbe)]
    public void TokenClassificationPredictsOneLearnedTagPerWord(string modelType, TuningMethod method)
    {
        var mlContext = new MLContext(seed: 1);
        TokenRow[] rows = TinyData.Tokens(count: 48, seed: 2);
        IDataView train = TinyData.Load(mlContext, rows);
        ITransformer model = TinyData.TokenPipeline(mlContext, TinyData.TokenOptions(TinyBaseModel.Get(modelType), method)).Fit(train);
        IDataView scored = model.Transform(train);

        var column = scored.Schema["PredictedLabel"];
        var vector = Assert.IsType<VectorDataViewType>(column.Type);
        Assert.Equal(0, vector.Size); // one entry per word: variable length
        Assert.Equal(4UL, Assert.IsType<KeyDataViewType>(vector.ItemType).Count);
        VBuffer<ReadOnlyMemory<char>> keyValues = default;
        column.GetKeyValues(ref keyValues);
        Assert.Equal(TagNames.Order(), keyValues.DenseValues().Select(v => v.ToString()).Order());

        string[][] predicted = scored.GetColumn<string[]>("PredictedTags").ToArray();
        Assert.Equal(rows.Select(r => r.Sentence!.Split(' ').Length), predicted.Select(p => p.Length));
        double accuracy = WordAccuracy(rows.Select(r => r.Tags), predicted);
        output.WriteLine($"{modelType} {method}: word accuracy {accuracy:P1}");
        // Tagging every word O would score about 40 %.
        Assert.True(accuracy > 0.65, $"word accuracy {accuracy:P1}");

        var entities = mlContext.MulticlassClassification.EvaluateEntities(scored, "Label", "PredictedLabel");
        output.WriteLine($"entity F1 {entities.F1:F3}");
        Assert.True(entities.F1 > 0.3, $"entity F1 {entities.F1:F3}");
    }

    [Fact]
    public void ASentenceFarLongerThanMaxSequenceLengthGetsOnePredictionPerWord()
    {
        // 60 short sentences joined into one of about 300 words; MaxSequenceLength is 32 tokens, so it takes many windows.
        TokenRow[] parts = TinyData.Tokens(count: 60, seed: 5);
        var joined = new TokenRow { Sentence = string.Join(' ', parts.Select(p => p.Sentence)), Tags = parts.SelectMany(p => p.Tags).ToArray() };
        string[] predicted = Assert.Single(models.Tokens.Transform(TinyData.Load(models.Context, [joined])).GetColumn<string[]>("PredictedTags").ToArray());
        string[][] alone = models.Tokens.Transform(TinyData.Load(models.Context, parts)).GetColumn<string[]>("PredictedTags").ToArray();

        Assert.Equal(joined.Tags.Length, predicted.Length);
        int half = predicted.Length / 2;
        double aloneAccuracy = WordAccuracy(parts.Select(p => p.Tags), alone);
        double head = WordAccuracy([joined.Tags[..half]], [predicted[..half]]);
        double tail = WordAccuracy([joined.Tags[half..]], [predicted[half..]]);
        output.WriteLine($"{predicted.Length} words: first half {head:P0}, second half {tail:P0}; sentences alone {aloneAccuracy:P0}");
        // Words deep in the sentence are predicted about as well as words of short sentences. (The tiny model trained
        // with EncoderDropout's random stream: 52 % and 56 % against 69 % alone; tagging every word O scores about 40 %.)
        Assert.True(head > aloneAccuracy - 0.2 && tail > aloneAccuracy - 0.2, $"head {head:P0}, tail {tail:P0}, alone {aloneAccuracy:P0}");
    }

    [Fact]
    public void EmptyAndWhiteSpaceSentencesGiveEmptyPredictions()
    {
        var rows = new[]
        {
            new TokenRow { Sentence = "", Tags = [] },
            new TokenRow { Sentence = "   \t ", Tags = [] },
            new TokenRow { Sentence = null, Tags = [] },
            new TokenRow { Sentence = "card", Tags = ["B-CARD"] },
        };
        var prefix = TinyData.PrefixTuningOf(models.Tokens);
        IDataView scored = prefix.Transform(models.Context.Data.LoadFromEnumerable(rows.Select(r => new { r.Sentence })));
        uint[][] keys = scored.GetColumn<uint[]>("PredictedLabel").ToArray();
        Assert.Equal([0, 0, 0, 1], keys.Select(k => k.Length));
        Assert.InRange(keys[3][0], 1u, 4u);
    }
}
