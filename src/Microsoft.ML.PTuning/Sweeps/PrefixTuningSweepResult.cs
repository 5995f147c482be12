using System.Globalization;
using System.Text;

namespace Microsoft.ML.PTuning;

/// <summary>What a sweep found: every trial, the best one, and its trained model.</summary>
public sealed class PrefixTuningSweepResult
{
    internal PrefixTuningSweepResult(IReadOnlyList<PrefixTuningTrial> trials, PrefixTuningTrial bestTrial, PrefixTuningTransformer bestModel,
        TimeSpan elapsed, int baseModelLoads, SweepStrategy strategy)
    {
        Trials = trials;
        BestTrial = bestTrial;
        BestModel = bestModel;
        Elapsed = elapsed;
        BaseModelLoads = baseModelLoads;
        Strategy = strategy;
    }

    /// <summary>All trials, in the order they were defined.</summary>
    public IReadOnlyList<PrefixTuningTrial> Trials { get; }

    /// <summary>The trial with the best validation metric.</summary>
    public PrefixTuningTrial BestTrial { get; }

    /// <summary>The best trial's model at its best epoch; save it with <c>mlContext.Model.Save</c> like any transformer.</summary>
    public PrefixTuningTransformer BestModel { get; }

    /// <summary>Wall time of the whole sweep.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>How many times a base model was read from disk during the sweep (0 or 1: trials share it).</summary>
    public int BaseModelLoads { get; }

    /// <summary>The strategy that ran.</summary>
    public SweepStrategy Strategy { get; }

    /// <summary>Epochs trained over all trials.</summary>
    public int TotalEpochs => Trials.Sum(t => t.EpochsRun);

    /// <summary>
    /// Writes <c>sweep-report.md</c> (a table of trials) and <c>metric-vs-prefix-length.png</c> (best validation metric
    /// against prefix length, one line per learning rate) into <paramref name="folder"/>, creating it if needed.
    /// </summary>
    /// <returns>The path of the markdown report.</returns>
    public string SaveReport(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        Directory.CreateDirectory(folder);
        const string plotName = "metric-vs-prefix-length.png";
        SavePlot(Path.Combine(folder, plotName));

        var culture = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine("# Prefix-tuning sweep").AppendLine();
        md.AppendLine(culture, $"Strategy: {Strategy}. Trials: {Trials.Count}. Epochs trained: {TotalEpochs}. Wall time: {Elapsed:hh\\:mm\\:ss}. Base model loads: {BaseModelLoads}.").AppendLine();
        md.AppendLine(culture, $"Best: prefix length {BestTrial.PrefixLength}, learning rate {BestTrial.LearningRate:G3}, validation metric {BestTrial.BestMetric:F4} at epoch {BestTrial.BestEpoch}.").AppendLine();
        md.AppendLine("| trial | prefix length | learning rate | epochs | best epoch | best metric | metric per epoch | trainable parameters | wall time | status |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|---|---:|---:|---|");
        foreach (var t in Trials)
        {
            string perEpoch = string.Join(" ", t.ValidationMetrics.Select(m => m.ToString("F3", culture)));
            md.AppendLine(culture, $"| {t.Index + 1} | {t.PrefixLength} | {t.LearningRate:G3} | {t.EpochsRun} | {t.BestEpoch} | {t.BestMetric:F4} | {perEpoch} | {t.TrainableParameters:N0} | {t.WallTime.TotalSeconds:F1} s | {t.StatusText} |");
        }
        if (Trials.Where(t => t.EpochsRun > 0).Select(t => t.EpochsRun).Distinct().Count() > 1)
            md.AppendLine().AppendLine("Trials stopped early (halved, time budget) are plotted and ranked by their best metric over the epochs they ran.");
        md.AppendLine().AppendLine(culture, $"![metric versus prefix length]({plotName})");
        string path = Path.Combine(folder, "sweep-report.md");
        File.WriteAllText(path, md.ToString());
        return path;
    }

    private void SavePlot(string path)
    {
        var plot = new ScottPlot.Plot();
        foreach (var group in Trials.Where(t => t.EpochsRun > 0).GroupBy(t => t.LearningRate).OrderBy(g => g.Key))
        {
            var points = group.OrderBy(t => t.PrefixLength).ToList();
            var line = plot.Add.Scatter(points.Select(t => Math.Log2(t.PrefixLength)).ToArray(), points.Select(t => t.BestMetric).ToArray());
            line.LegendText = $"lr {group.Key.ToString("G3", CultureInfo.InvariantCulture)}";
            line.MarkerSize = 8;
        }
        var lengths = Trials.Select(t => t.PrefixLength).Distinct().Order().ToArray();
        plot.Axes.Bottom.SetTicks(lengths.Select(l => Math.Log2(l)).ToArray(), lengths.Select(l => l.ToString(CultureInfo.InvariantCulture)).ToArray());
        plot.XLabel("prefix length (log scale)");
        plot.YLabel("best validation metric");
        plot.Title("Prefix-tuning sweep");
        plot.ShowLegend(ScottPlot.Edge.Right); // outside the data area, so no point hides behind it
        plot.SavePng(path, 800, 500);
    }
}
