namespace Microsoft.ML.PTuning.Benchmarks;

/// <summary>
/// Training a Banking77 text classifier through the public API, as the speed suite's end-to-end rows need it: the
/// intent mapped to a key (key order fixed by the whole training file, so every subsample gets the same 77 keys), then
/// <c>mlContext.Transforms.Text.PrefixTuning</c> with options the caller adjusts.
/// </summary>
internal static class Banking77Task
{
    /// <summary>The first <paramref name="rows"/> training rows (null = all) with the intent as key column "Label".</summary>
    public static IDataView KeyedTrain(MLContext mlContext, Splits<TextRow> texts, int? rows)
    {
        var toKey = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(TextRow.Intent)).Fit(mlContext.Data.LoadFromEnumerable(texts.Train));
        return toKey.Transform(mlContext.Data.LoadFromEnumerable(texts.Train.Take(rows ?? int.MaxValue)));
    }

    /// <summary>Options reading <see cref="TextRow.Text"/> and "Label", seeded, no validation; <paramref name="configure"/> then changes any of them.</summary>
    public static PrefixTuningTextClassificationOptions Options(string baseModel, int prefixLength, int epochs, Action<PrefixTuningTextClassificationOptions>? configure)
    {
        var options = new PrefixTuningTextClassificationOptions
        {
            BaseModelPath = baseModel,
            LabelColumnName = "Label",
            Sentence1ColumnName = nameof(TextRow.Text),
            PrefixLength = prefixLength,
            MaxEpochs = epochs,
            Seed = Datasets.Seed,
        };
        configure?.Invoke(options);
        return options;
    }
}
