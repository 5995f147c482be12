using System.Globalization;

namespace Microsoft.ML.PTuning.Sweeps;

/// <summary>
/// The sweep report's plot: best validation metric against prefix length, one line per learning rate. The only code in
/// Sweeps that uses ScottPlot, and its surface is one method, so the plot can move to an optional package.
/// </summary>
internal static class SweepPlot
{
    /// <summary>Writes the plot of <paramref name="trials"/> as an 800 × 500 PNG to <paramref name="path"/>.</summary>
    public static void Save(IReadOnlyList<PrefixTuningTrial> trials, string path)
    {
        var plot = new ScottPlot.Plot();
        foreach (var group in trials.Where(t => t.EpochsRun > 0).GroupBy(t => t.LearningRate).OrderBy(g => g.Key))
        {
            var points = group.OrderBy(t => t.PrefixLength).ToList();
            var line = plot.Add.Scatter(points.Select(t => Math.Log2(t.PrefixLength)).ToArray(), points.Select(t => t.BestMetric).ToArray());
            line.LegendText = $"lr {group.Key.ToString("G3", CultureInfo.InvariantCulture)}";
            line.MarkerSize = 8;
        }
        var lengths = trials.Select(t => t.PrefixLength).Distinct().Order().ToArray();
        plot.Axes.Bottom.SetTicks(lengths.Select(l => Math.Log2(l)).ToArray(), lengths.Select(l => l.ToString(CultureInfo.InvariantCulture)).ToArray());
        plot.XLabel("prefix length (log scale)");
        plot.YLabel("best validation metric");
        plot.Title("Prefix-tuning sweep");
        plot.ShowLegend(ScottPlot.Edge.Right); // outside the data area, so no point hides behind it
        plot.SavePng(path, 800, 500);
    }
}
