namespace Microsoft.ML.PTuning.Benchmarks;

/// <summary>The quality plots: validation metric per epoch for each method, and test metric against trainable parameters (log scale).</summary>
internal static class QualityPlots
{
    /// <summary>Writes two PNGs per dataset into <paramref name="folder"/>; returns their file names.</summary>
    public static IReadOnlyList<string> Write(string folder, IReadOnlyList<QualityRecord> records)
    {
        var files = new List<string>();
        foreach (var group in records.GroupBy(r => r.Dataset))
        {
            string metric = group.First().MetricName;
            string curves = $"quality-{group.Key}-validation.png";
            ValidationCurves(Path.Combine(folder, curves), group.Key, metric, group.ToList());
            files.Add(curves);
            string parameters = $"quality-{group.Key}-params.png";
            MetricVersusParameters(Path.Combine(folder, parameters), group.Key, metric, group.ToList());
            files.Add(parameters);
        }
        return files;
    }

    private static void ValidationCurves(string path, string dataset, string metric, IReadOnlyList<QualityRecord> records)
    {
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        int i = 0;
        foreach (var r in records.Where(r => r.ValidationCurve.Count > 0))
        {
            double[] epochs = Enumerable.Range(1, r.ValidationCurve.Count).Select(e => (double)e).ToArray();
            var line = plot.Add.Scatter(epochs, r.ValidationCurve.ToArray());
            line.LegendText = $"{r.Label} (lr {Report.F(r.LearningRate, "G3")})";
            line.Color = palette.GetColor(i++);
            line.MarkerSize = 7;
            line.LineWidth = 2;
        }
        int maxEpoch = records.Max(r => r.ValidationCurve.Count);
        plot.Axes.Bottom.SetTicks(Enumerable.Range(1, maxEpoch).Select(e => (double)e).ToArray(),
            Enumerable.Range(1, maxEpoch).Select(e => e.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        plot.XLabel("epoch");
        plot.YLabel($"validation {metric}");
        plot.Title($"{dataset}: validation {metric} per epoch (chosen learning rate)");
        plot.ShowLegend(ScottPlot.Edge.Right);
        plot.SavePng(path, 1000, 520);
    }

    private static void MetricVersusParameters(string path, string dataset, string metric, IReadOnlyList<QualityRecord> records)
    {
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        int i = 0;
        foreach (var r in records)
        {
            double x = Math.Log10(r.TrainableParameters);
            var point = plot.Add.Scatter(new[] { x }, new[] { r.Metric });
            point.LegendText = $"{r.Label}: {Report.F(r.Metric, "F3")}";
            point.Color = palette.GetColor(i++);
            point.MarkerSize = 11;
            var text = plot.Add.Text(r.Label, x, r.Metric);
            text.LabelFontSize = 11;
            text.LabelOffsetX = 7;
            text.LabelOffsetY = -7;
        }
        int low = (int)Math.Floor(records.Min(r => Math.Log10(r.TrainableParameters)));
        int high = (int)Math.Ceiling(records.Max(r => Math.Log10(r.TrainableParameters)));
        var decades = Enumerable.Range(low, high - low + 1).ToArray();
        plot.Axes.Bottom.SetTicks(decades.Select(d => (double)d).ToArray(), decades.Select(d => d switch
        {
            >= 6 => $"{Math.Pow(10, d - 6):G}M",
            >= 3 => $"{Math.Pow(10, d - 3):G}k",
            _ => $"{Math.Pow(10, d):G}",
        }).ToArray());
        plot.Axes.SetLimitsX(low - 0.2, high + 0.5);
        plot.XLabel("trainable parameters (log scale)");
        plot.YLabel($"test {metric}");
        plot.Title($"{dataset}: test {metric} against trainable parameters");
        plot.ShowLegend(ScottPlot.Edge.Right);
        plot.SavePng(path, 1000, 520);
    }
}
