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
        md.AppendLine($"- fp32 matmul ceiling (TorchSharp, square fp32 matmul; the best of measurements taken before the methods and after each): **{Report.F(r.MatmulGflops, "F1")} GFLOP/s**").AppendLine();
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
        md.AppendLine().AppendLine("## Size").AppendLine();
        md.AppendLine($"Task zip (PrefixTuning P=32, Banking77 head, base model referenced, not embedded): {r.ZipBytes:N0} bytes; " +
            $"base weights (model.safetensors): {r.BaseWeightBytes:N0} bytes; ratio {Report.F(100.0 * r.ZipBytes / r.BaseWeightBytes, "F2")} %.").AppendLine();
        foreach (string plot in plots)
            md.AppendLine($"![{Path.GetFileNameWithoutExtension(plot)}]({plot})").AppendLine();
        File.WriteAllText(path, md.ToString());
    }
}
