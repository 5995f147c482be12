using System.Globalization;
using System.Text;

namespace Microsoft.ML.PTuning.Sweeps;

/// <summary>Writes <see cref="PrefixTuningSweepResult.SaveReport"/>'s markdown report, with the plot beside it.</summary>
internal static class SweepReport
{
    internal const string FileName = "sweep-report.md";
    internal const string PlotFileName = "metric-vs-prefix-length.svg";

    /// <summary>Writes <see cref="FileName"/> and <see cref="PlotFileName"/> into <paramref name="folder"/>, creating it if needed.</summary>
    /// <returns>The path of the markdown report.</returns>
    public static string Save(PrefixTuningSweepResult result, string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        Directory.CreateDirectory(folder);
        var trials = result.Trials;
        var best = result.BestTrial;
        SweepPlot.Save(trials, Path.Combine(folder, PlotFileName));

        var culture = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine("# Prefix-tuning sweep").AppendLine();
        md.AppendLine(culture, $"Strategy: {result.Strategy}. Trials: {trials.Count}. Epochs trained: {result.TotalEpochs}. Wall time: {result.Elapsed:hh\\:mm\\:ss}. Base model loads: {result.BaseModelLoads}.").AppendLine();
        md.AppendLine(culture, $"Best: prefix length {best.PrefixLength}, learning rate {best.LearningRate:G3}, validation metric {best.BestMetric:F4} at epoch {best.BestEpoch}.").AppendLine();
        md.AppendLine("| trial | prefix length | learning rate | epochs | best epoch | best metric | metric per epoch | trainable parameters | wall time | status |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|---|---:|---:|---|");
        foreach (var t in trials)
        {
            string perEpoch = string.Join(" ", t.ValidationMetrics.Select(m => m.ToString("F3", culture)));
            md.AppendLine(culture, $"| {t.Index + 1} | {t.PrefixLength} | {t.LearningRate:G3} | {t.EpochsRun} | {t.BestEpoch} | {t.BestMetric:F4} | {perEpoch} | {t.TrainableParameters:N0} | {t.WallTime.TotalSeconds:F1} s | {t.StatusText} |");
        }
        if (trials.Where(t => t.EpochsRun > 0).Select(t => t.EpochsRun).Distinct().Count() > 1)
            md.AppendLine().AppendLine("Trials stopped early (halved, time budget) are plotted and ranked by their best metric over the epochs they ran.");
        md.AppendLine().AppendLine(culture, $"![metric versus prefix length]({PlotFileName})");
        string path = Path.Combine(folder, FileName);
        File.WriteAllText(path, md.ToString());
        return path;
    }
}
