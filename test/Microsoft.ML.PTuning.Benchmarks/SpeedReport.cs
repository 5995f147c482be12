using System.Text;

namespace Microsoft.ML.PTuning.Benchmarks;

/// <summary>speed.md and the speed plots.</summary>
internal static class SpeedReport
{
    public static IReadOnlyList<string> WritePlots(string folder, SpeedResult result)
    {
        const string steps = "speed-step-time.png", inference = "speed-inference.png";
        Bars(Path.Combine(folder, steps), $"Training step, batch {result.Batch} × {result.SequenceLength} tokens (lower is better)", "seconds per step",
            result.Methods.Select(m => (m.Method + (m.PrefixLength > 0 ? $" P={m.PrefixLength}" : ""), m.StepSeconds, m.Method)).ToList());
        // One colour per engine, so ours and ONNX Runtime read as two series side by side.
        Bars(Path.Combine(folder, inference), "Inference throughput, all-MiniLM-L6-v2 (higher is better)", "sequences per second",
            result.Inference.Select(i =>
            {
                string engine = i.Engine.StartsWith("ONNX", StringComparison.Ordinal) ? "ORT" : "ours";
                return ($"{engine} b{i.Batch}×{i.SequenceLength}", i.SequencesPerSecond, engine);
            }).ToList());
        return new[] { steps, inference };
    }

    /// <summary>A bar chart; bars of the same <c>Group</c> share a colour.</summary>
    private static void Bars(string path, string title, string yLabel, IReadOnlyList<(string Label, double Value, string Group)> bars)
    {
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var groups = bars.Select(b => b.Group).Distinct().ToList();
        for (int i = 0; i < bars.Count; i++)
        {
            var bar = plot.Add.Bar(position: i, value: bars[i].Value);
            bar.Color = palette.GetColor(groups.IndexOf(bars[i].Group) % 10);
            bar.Bars[0].Label = bars[i].Value >= 100 ? Report.F(bars[i].Value, "F0") : Report.F(bars[i].Value, "F2");
            bar.ValueLabelStyle.FontSize = 13;
        }
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, bars.Count).Select(i => (double)i).ToArray(), bars.Select(b => b.Label).ToArray());
        plot.Axes.Margins(bottom: 0, top: 0.15);
        plot.YLabel(yLabel);
        plot.Title(title);
        plot.SavePng(path, Math.Max(700, 130 * bars.Count), 480);
    }

    public static void WriteMarkdown(string path, SpeedResult r, IReadOnlyList<string> plots, bool quick, string baseModel)
    {
        var md = new StringBuilder();
        md.AppendLine("# Speed benchmark").AppendLine();
        if (quick)
            md.AppendLine("**Quick profile**: fewer timed steps and repeats than the full profile; noisier.").AppendLine();
        md.AppendLine($"- Command: `dotnet run -c Release --project test/Microsoft.ML.PTuning.Benchmarks -- speed{(quick ? " --quick" : "")}`");
        md.AppendLine($"- Machine: {r.Machine}");
        md.AppendLine($"- Base model: `{baseModel}`");
        md.AppendLine($"- Wall time: {TimeSpan.FromSeconds(r.WallSeconds):hh\\:mm\\:ss}");
        md.AppendLine($"- fp32 matmul ceiling (TorchSharp, square fp32 matmul; the best of measurements taken before the methods and after each): **{Report.F(r.MatmulGflops, "F1")} GFLOP/s**");
        md.AppendLine($"- bf16 matmul ceiling (the same shape and moments in bf16): **{Report.F(r.MatmulGflopsBf16, "F1")} GFLOP/s** ({Report.F(r.MatmulGflopsBf16 / r.MatmulGflops, "F2")}× fp32)").AppendLine();
        md.AppendLine($"## Training step (batch {r.Batch} × {r.SequenceLength} tokens of Banking77 text, 77 classes)").AppendLine();
        md.Append(Report.Table(
            new[] { "method", "s/step (median)", "tokens/s", "GFLOP/step", "MFU", "peak RSS MB", "trainable params", "steps timed" },
            r.Methods.Select(m => new[]
            {
                m.Method + (m.PrefixLength > 0 ? $" P={m.PrefixLength}" : ""),
                Report.F(m.StepSeconds, "F3"), Report.F(m.TokensPerSecond, "F0"), Report.F(m.GflopPerStep, "F0"),
                Report.F(100 * m.Mfu, "F1") + " %", Report.F(m.PeakRssMb, "F0"),
                m.TrainableParameters.ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
                string.Join(" ", m.StepTimes.Select(t => Report.F(t, "F2"))),
            })));
        var pt = r.Methods.FirstOrDefault(m => m.Method == nameof(TuningMethod.PrefixTuning));
        var ft = r.Methods.FirstOrDefault(m => m.Method == nameof(TuningMethod.FullFineTuning));
        if (pt != null && ft != null)
            md.AppendLine().AppendLine($"PrefixTuning / FullFineTuning: step time {Report.F(pt.StepSeconds / ft.StepSeconds, "F2")}×, peak RSS {Report.F(pt.PeakRssMb / ft.PeakRssMb, "F2")}×.");
        md.AppendLine().AppendLine("MFU = (matmul FLOPs the step needs ÷ step time) ÷ the matmul ceiling above. FLOPs: forward; activation gradients " +
            "only where something upstream is trained (prefix tuning skips layer 0's Q/K/V input gradient, the linear probe needs none); weight " +
            "gradients only of trained matrices. A linear layer's backward pass costs its forward per gradient; attention's costs twice its forward. " +
            "Peak RSS: largest resident set sampled every 20 ms while the method ran (whole process, base model included).").AppendLine();
        md.AppendLine("## Inference (last hidden state of all-MiniLM-L6-v2, same token ids, same thread count)").AppendLine();
        md.Append(Report.Table(
            new[] { "engine", "batch", "sequence length", "sequences/s", "threads" },
            r.Inference.Select(i => new[] { i.Engine, i.Batch.ToString(), i.SequenceLength.ToString(), Report.F(i.SequencesPerSecond, "F1"), i.Threads.ToString() })));
        md.AppendLine();
        foreach (var group in r.Inference.GroupBy(i => (i.Batch, i.SequenceLength)))
        {
            var ours = group.FirstOrDefault(i => !i.Engine.StartsWith("ONNX", StringComparison.Ordinal));
            var ort = group.FirstOrDefault(i => i.Engine.StartsWith("ONNX", StringComparison.Ordinal));
            if (ours != null && ort != null)
                md.AppendLine($"- batch {group.Key.Batch} × {group.Key.SequenceLength}: ours / ONNX Runtime = {Report.F(ours.SequencesPerSecond / ort.SequencesPerSecond, "F2")}×");
        }
        WriteUserFacing(md, r);
        md.AppendLine().AppendLine("## Size").AppendLine();
        md.AppendLine($"Task zip (PrefixTuning P=32, Banking77 head, base model referenced, not embedded): {r.ZipBytes:N0} bytes; " +
            $"base weights (model.safetensors): {r.BaseWeightBytes:N0} bytes; ratio {Report.F(100.0 * r.ZipBytes / r.BaseWeightBytes, "F2")} %.").AppendLine();
        foreach (string plot in plots)
            md.AppendLine($"![{Path.GetFileNameWithoutExtension(plot)}]({plot})").AppendLine();
        File.WriteAllText(path, md.ToString());
    }

    /// <summary>Epoch time on the real length mix, end-to-end sentences/s through Transform, single-sentence latency.</summary>
    private static void WriteUserFacing(StringBuilder md, SpeedResult r)
    {
        string N(int value) => value.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
        md.AppendLine().AppendLine("## Epoch time (Banking77 training rows, their own length mix, public API)").AppendLine();
        md.Append(Report.Table(
            new[] { "variant", "method", "rows", "batch", "max tokens", "s/epoch", "examples/s (last epoch)", "Fit s", "peak RSS MB" },
            r.Epochs.Select(e => new[]
            {
                e.Variant, e.Method, N(e.Rows), e.BatchSize.ToString(), e.MaxSequenceLength.ToString(),
                string.Join(" / ", e.EpochSeconds.Select(s => Report.F(s, "F1"))), Report.F(e.ExamplesPerSecond, "F1"),
                Report.F(e.FitSeconds, "F1"), Report.F(e.PeakRssMb, "F0"),
            })));
        md.AppendLine();
        foreach (var e in r.Epochs)
        {
            var l = e.Lengths;
            md.AppendLine($"- {e.Variant}: {N(l.Rows)} rows, tokens per row mean {Report.F(l.MeanTokens, "F1")}, median {l.MedianTokens}, p95 {l.P95Tokens}, " +
                $"max {l.MaxTokens}; shuffled batches of {l.BatchSize} padded to their longest row hold {Report.F(100 * l.PaddingOverhead, "F0")} % more tokens than the rows.");
        }
        md.AppendLine().AppendLine("s/epoch: the trainer's clock over its training steps (no validation set); Fit s adds reading the data view, " +
            "tokenization and the base-model lookup.");

        md.AppendLine().AppendLine("## End to end (Banking77 test sentences through `Transform` against an ONNX Runtime pipeline)").AppendLine();
        md.Append(Report.Table(
            new[] { "model", "sentences", "Transform sentences/s", "ORT pipeline sentences/s", "Transform / ORT", "accuracy (ours)", "accuracy (ORT)", "same class", "max abs Δp", "threads" },
            r.EndToEnd.Select(e => new[]
            {
                e.Model, N(e.Sentences), Report.F(e.OursSentencesPerSecond, "F1"), Report.F(e.PeerSentencesPerSecond, "F1"),
                Report.F(e.OursSentencesPerSecond / e.PeerSentencesPerSecond, "F2") + "×", Report.F(100 * e.OursAccuracy, "F1") + " %",
                Report.F(100 * e.PeerAccuracy, "F1") + " %", Report.F(100 * e.Agreement, "F2") + " %", Report.F(e.MaxScoreDifference, "G3"), e.Threads.ToString(),
            })));
        md.AppendLine().AppendLine("Ours: `transformer.Transform(data)` and a cursor reading PredictedLabel and Score. ORT pipeline: the library's " +
            "tokenizer (same budget), ONNX Runtime on the same MiniLM ONNX file, batches of 32 padded to their longest row, BERT pooling " +
            "(tanh(pooler.dense(h[CLS]))) and the classifier with the model's weights, softmax. One timed pass after a 64-row warm-up. The linear " +
            "probe's encoder is exactly the ONNX file's, so its classes must agree; a prefix-tuned model's prefix enters every layer, which the ONNX " +
            "file cannot take, so its row compares cost (the peer does the same work minus the prefix), not predictions.");

        md.AppendLine().AppendLine("## Latency (one sentence per call)").AppendLine();
        md.Append(Report.Table(
            new[] { "pipeline", "model", "calls", "p50 ms", "p99 ms", "mean ms" },
            r.Latency.Select(l => new[] { l.Pipeline, l.Model, l.Calls.ToString(), Report.F(l.P50Ms, "F2"), Report.F(l.P99Ms, "F2"), Report.F(l.MeanMs, "F2") })));
        md.AppendLine().AppendLine("PredictionEngine: `mlContext.Model.CreatePredictionEngine<TextRow, ClassPrediction>(model).Predict(row)`, a different " +
            "Banking77 test sentence per call, after warm-up calls; the ORT pipeline with one sentence per call beside it.");
    }
}
