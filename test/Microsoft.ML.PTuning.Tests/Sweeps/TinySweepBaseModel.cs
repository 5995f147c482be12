using Microsoft.ML.Data;

namespace Microsoft.ML.PTuning.Tests.Sweeps;

/// <summary>
/// A tiny RoBERTa base-model folder (the fixture byte-level BPE tokenizer, H=32, 2 layers, 4 heads, seeded random
/// weights, from <see cref="Pipeline.TinyBaseModel"/>) and a keyword task for sweeps.
/// </summary>
internal static class TinySweepBaseModel
{
    /// <summary>Position table small enough that a long prefix leaves too few token positions for the keyword.</summary>
    public const int SmallPositionTable = 26;

    /// <summary>
    /// A fresh Hugging Face folder: tokenizer files copied from test/fixtures/hf/tokenizers/roberta, config.json with
    /// vocab_size = the tokenizer's, and model.safetensors of a seeded random <c>TransformerEncoder</c>.
    /// </summary>
    public static string CreateFolder(int maxPositionEmbeddings = SmallPositionTable, int seed = 7) =>
        Pipeline.TinyBaseModel.Create("roberta", seed, maxPositionEmbeddings);

    // Single-token words of the fixture vocabulary ("Ġb", ..., "Ġdog", "Ġthe"): one token each after the first word.
    private static readonly string[] Filler = ["b", "c", "f", "l", "m", "p", "r", "t", "w"];

    /// <summary>Words before the keyword: 10 + keyword + 2 special tokens = 13 tokens.</summary>
    public const int FillerWords = 10;

    /// <summary>
    /// Sentences of <see cref="FillerWords"/> random one-letter words ending in "dog" or "the", labelled by that last
    /// word. With <see cref="SmallPositionTable"/> positions, prefix 4 leaves 20 token positions (the keyword fits)
    /// and prefix 16 leaves 8 (it is cut off, so nothing in the kept text tells the classes apart).
    /// </summary>
    public static IDataView KeywordTask(MLContext mlContext, int rows, int seed)
    {
        var random = new Random(seed);
        var data = Enumerable.Range(0, rows).Select(i =>
        {
            string keyword = i % 2 == 0 ? "dog" : "the";
            var words = Enumerable.Range(0, FillerWords).Select(_ => Filler[random.Next(Filler.Length)]).Append(keyword);
            return new KeywordRow { Text = string.Join(' ', words), Word = keyword };
        }).OrderBy(_ => random.Next()).ToList();
        IDataView view = mlContext.Data.LoadFromEnumerable(data);
        // Keys in a fixed order whatever the rows: "dog" = 1, "the" = 2.
        var keys = mlContext.Data.LoadFromEnumerable(new[] { new KeyValue { Word = "dog" }, new KeyValue { Word = "the" } });
        return mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(KeywordRow.Word), keyData: keys).Fit(view).Transform(view);
    }

    /// <summary>Options for the keyword task over <paramref name="folder"/>: small batches, seeded.</summary>
    public static PrefixTuningTextClassificationOptions Options(string folder, int maxEpochs) => new()
    {
        BaseModelPath = folder,
        Sentence1ColumnName = nameof(KeywordRow.Text),
        LabelColumnName = "Label",
        MaxEpochs = maxEpochs,
        BatchSize = 8,
        EarlyStoppingPatience = 0,
        Seed = 3,
    };

    public sealed class KeywordRow
    {
        public string Text { get; set; } = "";
        public string Word { get; set; } = "";
    }

    private sealed class KeyValue
    {
        public string Word { get; set; } = "";
    }

    /// <summary>The score vectors a transformer gives each row.</summary>
    public static float[][] Scores(ITransformer model, IDataView data)
    {
        IDataView scored = model.Transform(data);
        return scored.GetColumn<VBuffer<float>>(scored.Schema["Score"]).Select(v => v.DenseValues().ToArray()).ToArray();
    }
}
