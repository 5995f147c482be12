using System.Text;

namespace Microsoft.ML.PTuning.Benchmarks;

/// <summary>quality.md: what ran, one table per dataset, the learning-rate search, the plots.</summary>
internal static class QualityReport
{
    public static void WriteMarkdown(string path, QualityProfile profile, BenchmarkArguments args, IReadOnlyList<string> descriptions,
        IReadOnlyList<QualityRecord> records, IReadOnlyList<string> plots, TimeSpan wall, string baseModel)
    {
        var md = new StringBuilder();
        md.AppendLine("# Quality benchmark").AppendLine();
        if (args.Quick)
            md.AppendLine("**Quick profile**: subsampled data, 2 epochs, one learning rate per method — a smoke run, not the published numbers.").AppendLine();
        md.AppendLine($"- Command: `dotnet run -c Release --project test/Microsoft.ML.PTuning.Benchmarks -- quality{(args.Quick ? " --quick" : "")}`");
        md.AppendLine($"- Machine: {Report.Machine()}");
        md.AppendLine($"- Base model: `{baseModel}`");
        md.AppendLine($"- {char.ToUpperInvariant(profile.Describe()[0])}{profile.Describe()[1..]}");
        foreach (string d in descriptions)
            md.AppendLine($"- {d}");
        md.AppendLine($"- Wall time: {wall:hh\\:mm\\:ss}");
        md.AppendLine("- Selection: each method trains once per learning rate with the validation set; the rate with the best validation " +
            "metric wins and its model (weights of its best validation epoch) is evaluated on test. Peak RSS is the largest resident set " +
            "sampled every 20 ms during that training run (whole process: runtime, shared base model, data included). For PT2 +proj the " +
            "learning rate is the head's; the prefix MLP trains at the default PrefixProjectionLearningRate (3e-4, or the head's if lower).");
        md.AppendLine();
        foreach (var group in records.GroupBy(r => r.Dataset))
        {
            string metric = group.First().MetricName;
            md.AppendLine($"## {group.Key} (test {metric})").AppendLine();
            md.Append(Report.Table(
                new[] { "method", "learning rate", $"validation {metric} per lr", "best epoch", $"test {metric}", "macro-F1", "trainable params", "% of total", "train s", "peak RSS MB", "zip bytes" },
                group.Select(r => new[]
                {
                    r.Label,
                    Report.F(r.LearningRate, "G3") + (r.Search.First(s => s.LearningRate == r.LearningRate).ProjectionLearningRate is double p ? $" (MLP {Report.F(p, "G3")})" : ""),
                    string.Join(" / ", r.Search.Select(s => $"{Report.F(s.LearningRate, "G3")}: {Report.F(s.ValidationMetric, "F3")}")),
                    $"{r.BestEpoch} of {r.ValidationCurve.Count}",
                    Report.F(r.Metric, "F4"),
                    r.MacroF1 is { } m ? Report.F(m, "F4") : "",
                    r.TrainableParameters.ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
                    Report.F(100.0 * r.TrainableParameters / r.TotalParameters, "F2"),
                    Report.F(r.TrainSeconds, "F0"),
                    Report.F(r.PeakRssMb, "F0"),
                    r.ZipBytes.ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
                })));
            md.AppendLine();
            foreach (string plot in plots.Where(p => p.Contains(group.Key, StringComparison.Ordinal)))
                md.AppendLine($"![{Path.GetFileNameWithoutExtension(plot)}]({plot})").AppendLine();
        }
        File.WriteAllText(path, md.ToString());
    }
}
