using System.Diagnostics;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.PTuning.Runtime;

namespace Microsoft.ML.PTuning.Benchmarks;

/// <summary>
/// One trained model scored end to end on Banking77's test texts: ours through <c>transformer.Transform(data)</c> and a
/// cursor reading PredictedLabel and Score, against <see cref="OnnxPeerPipeline"/> with the model's head; sentences/s of
/// each (one timed pass after a warm-up on the first rows), test accuracy of each, and how often they agree on the class
/// (with the largest difference of any class probability).
/// </summary>
internal sealed record EndToEndSpeed(string Model, int Sentences, double OursSentencesPerSecond, double PeerSentencesPerSecond,
    double OursAccuracy, double PeerAccuracy, double Agreement, double MaxScoreDifference, int Threads);

/// <summary>End-to-end sentences/s through <c>Transform</c> against the ONNX Runtime pipeline.</summary>
internal static class EndToEndThroughput
{
    private const int WarmupRows = 64;

    public static EndToEndSpeed Measure(string label, MLContext mlContext, PrefixTuningTransformer model, InferenceSession session,
        IReadOnlyList<TextRow> test, int threads)
    {
        var peer = new OnnxPeerPipeline(session, model);
        var texts = test.Select(r => r.Text).ToList();
        var warmup = test.Take(WarmupRows).ToList();

        ScoreThroughTransform(mlContext, model, warmup);
        var clock = Stopwatch.StartNew();
        var ours = ScoreThroughTransform(mlContext, model, test);
        double oursRate = test.Count / clock.Elapsed.TotalSeconds;

        peer.Classify(texts.Take(WarmupRows).ToList());
        clock.Restart();
        var theirs = peer.Classify(texts);
        double peerRate = test.Count / clock.Elapsed.TotalSeconds;

        var classNames = model.ClassNames ?? throw new InvalidOperationException($"{label}: the model has no class names to score Banking77's intents against.");
        int[] gold = test.Select(r => IndexOf(classNames, r.Intent)).ToArray();
        int[] oursClass = ours.Select(ArgMax).ToArray();
        int[] peerClass = theirs.Select(ArgMax).ToArray();
        double maxDifference = 0;
        for (int i = 0; i < ours.Count; i++)
        {
            for (int c = 0; c < ours[i].Length; c++)
                maxDifference = Math.Max(maxDifference, Math.Abs(ours[i][c] - theirs[i][c]));
        }
        double Fraction(Func<int, bool> hit) => (double)Enumerable.Range(0, test.Count).Count(hit) / test.Count;
        var result = new EndToEndSpeed(label, test.Count, oursRate, peerRate, Fraction(i => oursClass[i] == gold[i]), Fraction(i => peerClass[i] == gold[i]),
            Fraction(i => oursClass[i] == peerClass[i]), maxDifference, threads);
        Log.Line($"end to end, {label}, {test.Count:N0} Banking77 test sentences: Transform {oursRate:F1} sentences/s, ONNX Runtime pipeline {peerRate:F1} " +
            $"({oursRate / peerRate:F2}×); accuracy {result.OursAccuracy:P1} / {result.PeerAccuracy:P1}; same class {result.Agreement:P2}, max |Δp| {maxDifference:G3}");
        return result;
    }

    /// <summary>Each row's Score through the transformer, read with a cursor over PredictedLabel and Score (the predicted key is checked against the argmax).</summary>
    private static List<float[]> ScoreThroughTransform(MLContext mlContext, PrefixTuningTransformer model, IReadOnlyList<TextRow> rows)
    {
        var scored = model.Transform(mlContext.Data.LoadFromEnumerable(rows));
        var predicted = scored.Schema["PredictedLabel"];
        var score = scored.Schema["Score"];
        using var cursor = scored.GetRowCursor(new[] { predicted, score });
        var getPredicted = cursor.GetGetter<uint>(predicted);
        var getScore = cursor.GetGetter<VBuffer<float>>(score);
        uint key = 0;
        VBuffer<float> values = default;
        var result = new List<float[]>(rows.Count);
        while (cursor.MoveNext())
        {
            getPredicted(ref key);
            getScore(ref values);
            float[] probabilities = values.DenseValues().ToArray();
            if (key != ArgMax(probabilities) + 1)
                throw new InvalidOperationException($"Row {result.Count}: PredictedLabel key {key} is not the argmax of Score ({ArgMax(probabilities) + 1}).");
            result.Add(probabilities);
        }
        return result;
    }

    private static int ArgMax(float[] values) => InferenceEngine.ArgMax(values);

    private static int IndexOf(IReadOnlyList<string> classNames, string name)
    {
        for (int i = 0; i < classNames.Count; i++)
        {
            if (classNames[i] == name)
                return i;
        }
        return -1;
    }
}
