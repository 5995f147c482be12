using System.Globalization;

namespace Microsoft.ML.PTuning.Sweeps;

/// <summary>
/// The sweep report's plot: best validation metric against prefix length (log scale), one line per learning rate,
/// written as SVG by <see cref="SvgLineChart"/> (managed code only: the package carries no native graphics library).
/// </summary>
internal static class SweepPlot
{
    /// <summary>Writes the plot of <paramref name="trials"/> as an 800 × 500 SVG to <paramref name="path"/>.</summary>
    public static void Save(IReadOnlyList<PrefixTuningTrial> trials, string path)
    {
        var lengths = trials.Select(t => t.PrefixLength).Distinct().Order().ToArray();
        var chart = new SvgLineChart(800, 500)
        {
            Title = "Prefix-tuning sweep",
            XLabel = "prefix length (log scale)",
            YLabel = "best validation metric",
            XTicks = lengths.Select(l => (Math.Log2(l), l.ToString(CultureInfo.InvariantCulture))).ToArray(),
        };
        foreach (var group in trials.Where(t => t.EpochsRun > 0).GroupBy(t => t.LearningRate).OrderBy(g => g.Key))
            chart.Add($"lr {group.Key.ToString("G3", CultureInfo.InvariantCulture)}", group.Select(t => (Math.Log2(t.PrefixLength), t.BestMetric)));
        chart.Save(path);
    }
}
