using Microsoft.ML.PTuning.Runtime;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Pipeline;

/// <summary>Inference sorts each window by length and runs length-homogeneous batches; rows come back in input order.</summary>
[Collection(PipelineCollection.Name)]
public class LengthBucketingTests(TrainedModels models)
{
    /// <summary>More than a window of sentences of 1 to 24 filler words, in random length order.</summary>
    private static string[][] MixedSentences(int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, InferenceEngine.WindowSize + 45).Select(_ => TinyData.FillerWords(random, random.Next(1, 25))).ToArray();
    }

    [Fact]
    public void BucketedRunsHandRowsBackInInputOrderWithTheLogitsEachRowGetsAlone()
    {
        var engine = TinyData.PrefixTuningOf(models.Text).Engine;
        var sequences = MixedSentences(seed: 11).Select(words => engine.Encode(new SentencePair(string.Join(' ', words), null))).ToList();
        Assert.True(sequences.Select(s => s.InputIds.Length).Distinct().Count() > 10);

        var rows = new List<int>();
        var logits = new List<float[]>();
        engine.Run(sequences, (row, values) =>
        {
            rows.Add(row);
            logits.Add(values.ToArray());
        });

        Assert.Equal(Enumerable.Range(0, sequences.Count), rows);
        for (int i = 0; i < sequences.Count; i++)
        {
            float[] alone = [];
            engine.Run([sequences[i]], (_, values) => alone = values.ToArray());
            Assert.Equal(alone.Length, logits[i].Length);
            float difference = alone.Zip(logits[i], (a, b) => Math.Abs(a - b)).Max();
            Assert.True(difference < 1e-5, $"row {i}: max difference {difference}");
        }
    }

    [Fact]
    public void TaggedWordsOfAMixedBatchEqualThoseOfEachSentenceAlone()
    {
        var engine = TinyData.PrefixTuningOf(models.Tokens).Engine;
        var sentences = MixedSentences(seed: 12).Take(80).ToList();
        int[][] together = engine.TagWords(sentences);
        for (int i = 0; i < sentences.Count; i++)
            Assert.Equal(engine.TagWords([sentences[i]])[0], together[i]);
    }

    [Fact]
    public void TransformScoresEveryRowOfAMixedReadAheadWindowAsItScoresItAlone()
    {
        var engine = TinyData.PrefixTuningOf(models.Text).Engine;
        var sentences = MixedSentences(seed: 13).Select(words => string.Join(' ', words)).ToArray();
        IDataView data = models.Context.Data.LoadFromEnumerable(sentences.Select(s => new TextRow { Sentence1 = s, Label = "card" }));
        float[][] transformed = TinyData.Scores(models.Text.Transform(data));
        float[][] alone = sentences.Select(s => engine.Classify([new SentencePair(s, null)])[0]).ToArray();
        Assert.True(TinyData.MaxDifference(transformed, alone) < 1e-5);
    }
}
