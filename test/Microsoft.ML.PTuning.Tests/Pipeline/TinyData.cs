using Microsoft.ML.Data;

namespace Microsoft.ML.PTuning.Tests.Pipeline;

/// <summary>A text-classification row (one sentence or a pair).</summary>
public sealed class TextRow
{
    public string? Sentence1 { get; set; }
    public string? Sentence2 { get; set; }
    public string Label { get; set; } = "";
}

/// <summary>A token-classification row: words split on spaces, one tag per word.</summary>
public sealed class TokenRow
{
    public string? Sentence { get; set; }
    public string[] Tags { get; set; } = [];
}

/// <summary>What a text-classification pipeline predicts, after MapKeyToValue.</summary>
public sealed class TextPrediction
{
    public string PredictedText { get; set; } = "";
    public float[] Score { get; set; } = [];
}

/// <summary>What a token-classification pipeline predicts, after MapKeyToValue.</summary>
public sealed class TokenPrediction
{
    public string[] PredictedTags { get; set; } = [];
}

/// <summary>
/// Tiny seeded data sets a frozen random tiny encoder plus a prefix and head can learn in a few epochs: the class is
/// decided by one keyword among filler words, all taken from the tokenizer fixtures' training corpus.
/// </summary>
public static class TinyData
{
    public static readonly string[] Classes = ["card", "money", "transfer"];

    public static readonly string[][] Keywords =
    [
        ["card", "block", "lost"],
        ["money", "left", "account"],
        ["transfer", "euros", "savings"],
    ];

    public static readonly string[] Filler =
        ["the", "dog", "please", "my", "is", "on", "to", "was", "in"];

    /// <summary><paramref name="perClass"/> single sentences per class: keywords of the class among filler words.</summary>
    public static TextRow[] Text(int perClass, int seed)
    {
        var random = new Random(seed);
        var rows = new List<TextRow>();
        for (int i = 0; i < perClass; i++)
        {
            for (int c = 0; c < Classes.Length; c++)
                rows.Add(new TextRow { Sentence1 = string.Join(' ', Words(random, c).Words), Label = Classes[c] });
        }
        return rows.ToArray();
    }

    /// <summary>Pairs whose class is decided by the keyword in the second sentence; the first is filler only.</summary>
    public static TextRow[] Pairs(int perClass, int seed)
    {
        var random = new Random(seed);
        var rows = new List<TextRow>();
        for (int i = 0; i < perClass; i++)
        {
            for (int c = 0; c < Classes.Length; c++)
            {
                rows.Add(new TextRow
                {
                    Sentence1 = string.Join(' ', FillerWords(random, random.Next(3, 6))),
                    Sentence2 = string.Join(' ', Words(random, c).Words),
                    Label = Classes[c],
                });
            }
        }
        return rows.ToArray();
    }

    /// <summary>Token rows: a keyword is tagged B-CARD / B-MONEY / B-TRANSFER, every filler word O.</summary>
    public static TokenRow[] Tokens(int count, int seed)
    {
        var random = new Random(seed);
        var rows = new TokenRow[count];
        for (int i = 0; i < count; i++)
        {
            var (words, isKeyword) = Words(random, i % Classes.Length);
            string tag = "B-" + Classes[i % Classes.Length].ToUpperInvariant();
            rows[i] = new TokenRow
            {
                Sentence = string.Join(' ', words),
                Tags = isKeyword.Select(k => k ? tag : "O").ToArray(),
            };
        }
        return rows;
    }

    public static string[] FillerWords(Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => Filler[random.Next(Filler.Length)]).ToArray();

    /// <summary>2–3 keywords of class <paramref name="cls"/> and 1–2 filler words, shuffled; true where a word is a keyword.</summary>
    private static (string[] Words, bool[] IsKeyword) Words(Random random, int cls)
    {
        var words = new List<(string Word, bool Keyword)>();
        int keywords = random.Next(2, 4), fillers = random.Next(1, 3);
        for (int i = 0; i < keywords; i++)
            words.Add((Keywords[cls][random.Next(Keywords[cls].Length)], true));
        foreach (string filler in FillerWords(random, fillers))
            words.Add((filler, false));
        var shuffled = words.OrderBy(_ => random.Next()).ToArray();
        return (shuffled.Select(w => w.Word).ToArray(), shuffled.Select(w => w.Keyword).ToArray());
    }

    public static IDataView Load(MLContext mlContext, IEnumerable<TextRow> rows) => mlContext.Data.LoadFromEnumerable(rows);

    public static IDataView Load(MLContext mlContext, IEnumerable<TokenRow> rows) => mlContext.Data.LoadFromEnumerable(rows);

    /// <summary>Sentence2 dropped from the schema (single-sentence data).</summary>
    public static IDataView LoadSingle(MLContext mlContext, IEnumerable<TextRow> rows) =>
        mlContext.Transforms.DropColumns(nameof(TextRow.Sentence2)).Fit(Load(mlContext, rows)).Transform(Load(mlContext, rows));

    /// <summary>Options for a fast, seeded fit on the tiny data.</summary>
    public static PrefixTuningTextClassificationOptions TextOptions(string baseModelPath, TuningMethod method = TuningMethod.PrefixTuning, int epochs = 8) => new()
    {
        BaseModelPath = baseModelPath,
        Method = method,
        PrefixLength = 4,
        MaxSequenceLength = 32,
        BatchSize = 8,
        MaxEpochs = epochs,
        LearningRate = method == TuningMethod.FullFineTuning ? 3e-3 : 3e-2,
        Seed = 7,
    };

    public static PrefixTuningTokenClassificationOptions TokenOptions(string baseModelPath, TuningMethod method = TuningMethod.PrefixTuning, int epochs = 15) => new()
    {
        BaseModelPath = baseModelPath,
        Method = method,
        LabelColumnName = "Label",
        SentenceColumnName = nameof(TokenRow.Sentence),
        PrefixLength = 4,
        MaxSequenceLength = 32,
        BatchSize = 8,
        MaxEpochs = epochs,
        LearningRate = 3e-2,
        Seed = 7,
    };

    /// <summary>MapValueToKey(Label) → prefix tuning → MapKeyToValue(PredictedText).</summary>
    public static IEstimator<ITransformer> TextPipeline(MLContext mlContext, PrefixTuningTextClassificationOptions options) =>
        mlContext.Transforms.Conversion.MapValueToKey("Label")
            .Append(mlContext.Transforms.Text.PrefixTuning(options))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedText", options.PredictionColumnName));

    /// <summary>MapValueToKey(Tags → Label) → prefix tuning → MapKeyToValue(PredictedTags).</summary>
    public static IEstimator<ITransformer> TokenPipeline(MLContext mlContext, PrefixTuningTokenClassificationOptions options) =>
        mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(TokenRow.Tags))
            .Append(mlContext.Transforms.Text.PrefixTuning(options))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedTags", options.PredictionColumnName));

    /// <summary>The prefix-tuning transformer of a fitted pipeline.</summary>
    public static PrefixTuningTransformer PrefixTuningOf(ITransformer model) =>
        model as PrefixTuningTransformer ?? ((IEnumerable<ITransformer>)model).OfType<PrefixTuningTransformer>().Single();

    /// <summary>The innermost exception: ML.NET's loader wraps what a model's Create throws in TargetInvocationExceptions.</summary>
    public static Exception Innermost(Exception e)
    {
        while (e is System.Reflection.TargetInvocationException { InnerException: { } inner })
            e = inner;
        return e;
    }

    /// <summary>The score column of every row.</summary>
    public static float[][] Scores(IDataView transformed, string column = "Score") =>
        transformed.GetColumn<VBuffer<float>>(column).Select(v => v.DenseValues().ToArray()).ToArray();

    /// <summary>The largest absolute difference between two score tables of the same shape.</summary>
    public static float MaxDifference(float[][] a, float[][] b)
    {
        Xunit.Assert.Equal(a.Length, b.Length);
        float max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            Xunit.Assert.Equal(a[i].Length, b[i].Length);
            for (int j = 0; j < a[i].Length; j++)
                max = Math.Max(max, Math.Abs(a[i][j] - b[i][j]));
        }
        return max;
    }
}
