using System.Diagnostics;

namespace Microsoft.ML.PTuning.Benchmarks;

/// <summary>Latency of one sentence at a time: milliseconds per call, median, 99th percentile and mean over the timed calls.</summary>
internal sealed record LatencySpeed(string Pipeline, string Model, int Calls, double P50Ms, double P99Ms, double MeanMs);

/// <summary>What <c>PredictionEngine</c> hands back for a text classifier.</summary>
internal sealed class ClassPrediction
{
    public uint PredictedLabel { get; set; }

    public float[] Score { get; set; } = Array.Empty<float>();
}

/// <summary>
/// <c>mlContext.Model.CreatePredictionEngine&lt;TextRow, ClassPrediction&gt;(model).Predict(row)</c> for one Banking77 test
/// sentence per call, cycling through the test rows, after warm-up calls; the ONNX Runtime pipeline with one sentence
/// per call beside it.
/// </summary>
internal static class PredictionLatency
{
    public static IReadOnlyList<LatencySpeed> Measure(string label, MLContext mlContext, PrefixTuningTransformer model, OnnxPeerPipeline peer,
        IReadOnlyList<TextRow> test, int warmup, int calls)
    {
        using var engine = mlContext.Model.CreatePredictionEngine<TextRow, ClassPrediction>(model);
        var prediction = new ClassPrediction();
        var ours = Time(warmup, calls, i => engine.Predict(test[i % test.Count], ref prediction));
        var one = new string[1];
        var theirs = Time(warmup, calls, i =>
        {
            one[0] = test[i % test.Count].Text;
            peer.Classify(one);
        });
        var rows = new[] { Summary("PredictionEngine (ours)", label, ours), Summary("ONNX Runtime pipeline", label, theirs) };
        foreach (var row in rows)
            Log.Line($"latency, {row.Pipeline}, {label}: p50 {row.P50Ms:F2} ms, p99 {row.P99Ms:F2} ms, mean {row.MeanMs:F2} ms over {row.Calls} calls after {warmup} warm-up");
        return rows;
    }

    private static List<double> Time(int warmup, int calls, Action<int> call)
    {
        for (int i = 0; i < warmup; i++)
            call(i);
        var times = new List<double>(calls);
        var sw = new Stopwatch();
        for (int i = 0; i < calls; i++)
        {
            sw.Restart();
            call(warmup + i);
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        return times;
    }

    private static LatencySpeed Summary(string pipeline, string model, List<double> times)
    {
        var sorted = times.Order().ToList();
        double Percentile(double p) => sorted[(int)Math.Ceiling(p * sorted.Count) - 1];
        return new LatencySpeed(pipeline, model, times.Count, Percentile(0.5), Percentile(0.99), times.Average());
    }
}
