using System.Diagnostics;
using Microsoft.ML.PTuning.Tokenization;

namespace Microsoft.ML.PTuning.Benchmarks;

/// <summary>
/// One training run's epochs on Banking77's own texts (their real length mix, not a fixed batch): seconds per epoch as
/// the trainer clocks it (training steps only; no validation set), the whole <c>Fit</c> (data read, tokenization, base
/// lookup included), examples/s of the last epoch, the peak RSS while it trained and the length mix of its rows.
/// </summary>
internal sealed record EpochSpeed(string Variant, string Method, int Rows, int BatchSize, int PrefixLength, int MaxSequenceLength,
    IReadOnlyList<double> EpochSeconds, double ExamplesPerSecond, double FitSeconds, double PeakRssMb, LengthMix Lengths);

/// <summary>
/// Tokens per training row of the rows an epoch row trains on, and the padding a batch padded to its longest row adds
/// when batches are drawn in shuffled order (what the trainer does today): padded tokens ÷ real tokens − 1.
/// </summary>
internal sealed record LengthMix(int Rows, double MeanTokens, int MedianTokens, int P95Tokens, int MaxTokens, int BatchSize, double PaddingOverhead);

/// <summary>
/// Epoch time through the public API (<c>mlContext.Transforms.Text.PrefixTuning(...).Fit</c>). A variant is a label and
/// a callback that changes the options (precision, depth, batching: whatever the library grows), so every variant
/// shares the rows, the seed and the clock.
/// </summary>
internal static class EpochTime
{
    /// <summary>
    /// Trains <paramref name="epochs"/> epochs of <paramref name="rows"/> Banking77 training rows (null = all) with the
    /// defaults of <see cref="Banking77Task.Options"/> (batch 16, 128 tokens, prefix <paramref name="prefixLength"/>)
    /// changed by <paramref name="configure"/>; returns the row and the trained transformer (the caller disposes it).
    /// </summary>
    public static (EpochSpeed Speed, PrefixTuningTransformer Model) Measure(string variant, MLContext mlContext, Splits<TextRow> texts,
        string baseModel, int? rows, int epochs, int prefixLength, Action<PrefixTuningTextClassificationOptions>? configure = null)
    {
        var train = Banking77Task.KeyedTrain(mlContext, texts, rows);
        var recorder = new EpochRecorder(variant);
        var options = Banking77Task.Options(baseModel, prefixLength, epochs, configure);
        options.Progress = recorder;
        int count = Math.Min(rows ?? int.MaxValue, texts.Train.Count);
        PrefixTuningTransformer model;
        double fitSeconds, peak;
        using (var memory = MemorySampler.Start())
        {
            var clock = Stopwatch.StartNew();
            model = mlContext.Transforms.Text.PrefixTuning(options).Fit(train);
            fitSeconds = clock.Elapsed.TotalSeconds;
            peak = memory.PeakMb;
        }
        var seconds = recorder.EpochExamplesPerSecond.Select(e => count / e).ToList();
        var speed = new EpochSpeed(variant, options.Method.ToString(), count, options.BatchSize, model.PrefixLength, options.MaxSequenceLength,
            seconds, count / seconds[^1], fitSeconds, peak, Lengths(model.Engine.Tokenizer, texts.Train.Take(count), model.Engine.MaxTokens, options.BatchSize));
        Log.Line($"epoch time, {variant}: {string.Join(" / ", seconds.Select(s => s.ToString("F1")))} s per epoch of {count:N0} rows " +
            $"(batch {speed.BatchSize}), {speed.ExamplesPerSecond:F1} examples/s, Fit {fitSeconds:F1} s, peak RSS {peak:F0} MB");
        return (speed, model);
    }

    /// <summary><see cref="Measure"/> for the row alone (the trained model is disposed): one line per extra variant in the suite.</summary>
    public static EpochSpeed Time(string variant, MLContext mlContext, Splits<TextRow> texts, string baseModel, int? rows, int epochs, int prefixLength,
        Action<PrefixTuningTextClassificationOptions>? configure = null)
    {
        var (speed, model) = Measure(variant, mlContext, texts, baseModel, rows, epochs, prefixLength, configure);
        model.Dispose();
        return speed;
    }

    /// <summary>The length mix of <paramref name="rows"/> under a token budget, in shuffled batches of <paramref name="batchSize"/>.</summary>
    public static LengthMix Lengths(EncoderTokenizer tokenizer, IEnumerable<TextRow> rows, int maxTokens, int batchSize)
    {
        int[] lengths = rows.Select(r => tokenizer.Encode(r.Text, null, maxTokens).InputIds.Length).ToArray();
        int[] sorted = lengths.Order().ToArray();
        new Random(Datasets.Seed).Shuffle(lengths);
        long padded = 0;
        for (int start = 0; start < lengths.Length; start += batchSize)
        {
            var batch = lengths.AsSpan(start, Math.Min(batchSize, lengths.Length - start));
            int longest = 0;
            foreach (int length in batch)
                longest = Math.Max(longest, length);
            padded += (long)longest * batch.Length;
        }
        return new LengthMix(lengths.Length, lengths.Average(), sorted[sorted.Length / 2], sorted[(int)(0.95 * (sorted.Length - 1))], sorted[^1],
            batchSize, (double)padded / lengths.Sum() - 1);
    }
}
