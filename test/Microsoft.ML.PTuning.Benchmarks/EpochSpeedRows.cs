using System.Diagnostics;
using System.Text;
using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Runtime;
using Microsoft.ML.PTuning.Training;

namespace Microsoft.ML.PTuning.Benchmarks;

/// <summary>One training configuration's epochs on Banking77's real length mix.</summary>
/// <remarks>
/// PaddedPerRealToken: tokens the epoch's batches compute per real token (1.0 = no padding) for its batch order.
/// EpochCpuSeconds: the process's CPU time per epoch — on a machine shared with other work, wall time measures the
/// neighbours too, CPU time (with one torch thread, so no spinning) much less; ratios are taken on both.
/// </remarks>
internal sealed record EpochVariantSpeed(string Label, bool GroupByLength, int? PrefixDepth, int Rows, int BatchSize, int PrefixLength,
    IReadOnlyList<double> EpochSeconds, double LaterEpochSeconds, double RatioToToday, IReadOnlyList<double> EpochCpuSeconds,
    double LaterEpochCpuSeconds, double CpuRatioToToday, double PaddedPerRealToken, long CacheBytes);

/// <summary>
/// The speed suite's epoch rows (issue 14, items 3 and 4): P-Tuning v2 epochs over a seeded subset of the Banking77 train
/// file with its real length mix, through the library's own trainer, fp32: plain shuffled batches and full depth (what
/// the library did before), length-grouped batches, and partial depth k = L/2 and k = 1 (grouped). "Later epochs" is the
/// mean of epochs 2 and on, the ones partial depth's cache serves. 600 rows and 2 epochs in the quick profile, 3,000 and
/// 3 in the full one (PTUNING_BENCH_EPOCH_ROWS sets the rows). Writes speed-epochs.json and speed-epochs.md.
/// </summary>
internal static class EpochSpeedRows
{
    private const int BatchSize = 16;
    private const int PrefixLength = 32;
    private const int MaxSequenceLength = 128;

    public static IReadOnlyList<EpochVariantSpeed> Run(BaseModel baseModel, Splits<TextRow> texts, bool quick, string outputFolder)
    {
        // PTUNING_BENCH_EPOCH_ROWS overrides the row count (a machine busy with other work cannot run the profile's in time).
        int profileRows = int.TryParse(Environment.GetEnvironmentVariable("PTUNING_BENCH_EPOCH_ROWS"), out int rowsSet) && rowsSet > 0
            ? rowsSet
            : quick ? 600 : 3000;
        int rows = Math.Min(texts.Train.Count, profileRows);
        int epochs = quick ? 2 : 3;
        int layers = baseModel.Config.NumHiddenLayers;
        var classes = texts.Classes.ToList();
        var data = new TextDataset(texts.Train.Take(rows)
            .Select(r => new LabeledText(new SentencePair(r.Text, null), classes.IndexOf(r.Intent))).ToList());
        Log.Line($"Epoch rows: PT2 P={PrefixLength}, batch {BatchSize}, {rows} Banking77 train rows (seed {Datasets.Seed}), {epochs} epochs each, fp32.");

        var configs = new (string Label, bool Grouped, int? Depth)[]
        {
            ("shuffled, full depth (before)", false, null),
            ("grouped, full depth", true, null),
            ($"grouped, k = {layers / 2} (L/2)", true, layers / 2),
            ("grouped, k = 1", true, 1),
        };
        var results = new List<EpochVariantSpeed>();
        foreach (var (label, grouped, depth) in configs)
        {
            var spec = new TaskSpec(TaskKind.SequenceClassification, classes.Count, TuningMethod.PrefixTuning, PrefixLength, depth);
            var settings = new TrainerSettings(LearningRate: 1e-2, ProjectionLearningRate: PrefixTuningOptions.DefaultProjectionLearningRate,
                WeightDecay: 0, WarmupRatio: 0, ClipNorm: 1.0, BatchSize: BatchSize, MaxEpochs: epochs, EarlyStoppingPatience: 0,
                Seed: Datasets.Seed, GroupByLength: grouped);
            int maxTokens = baseModel.Config.MaxTokens(MaxSequenceLength, PrefixLength);
            using var session = TrainingSession.Start(baseModel, spec, new AdapterTraining(false, 512, 0.1), settings, maxTokens, data,
                validation: null, ValidationMetric.Auto, classNames: null, progress: null, log: null, CancellationToken.None);
            var seconds = new List<double>();
            var cpu = new List<double>();
            for (int e = 0; e < epochs; e++)
            {
                TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                seconds.Add(session.Trainer!.RunEpoch().Duration.TotalSeconds);
                cpu.Add((Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds);
                Log.Progress($"  {label}: epoch {e + 1}/{epochs} {seconds[^1]:F1} s (CPU {cpu[^1]:F1} s)");
            }
            double later = seconds.Skip(1).Average();
            double laterCpu = cpu.Skip(1).Average();
            double padding = Padding(data, baseModel, maxTokens, grouped);
            long cache = session.Trainer!.BelowPrefix?.Bytes ?? 0;
            double ratio = results.Count == 0 ? 1.0 : later / results[0].LaterEpochSeconds;
            double cpuRatio = results.Count == 0 ? 1.0 : laterCpu / results[0].LaterEpochCpuSeconds;
            results.Add(new EpochVariantSpeed(label, grouped, depth, rows, BatchSize, PrefixLength, seconds, later, ratio, cpu, laterCpu, cpuRatio, padding, cache));
            Log.Line($"  {label}: epochs {string.Join(" / ", seconds.Select(s => Report.F(s, "F1")))} s (CPU {string.Join(" / ", cpu.Select(s => Report.F(s, "F1")))} s); " +
                $"later epochs {later:F1} s ({ratio:F2}× the first row; CPU {cpuRatio:F2}×); {padding:F2} computed tokens per real token" +
                (cache > 0 ? $"; cache {cache / 1048576.0:F1} MiB" : ""));
        }

        var full = results[1];
        foreach (var r in results.Skip(2))
        {
            Log.Line($"  {r.Label} vs grouped full depth, later epochs: {r.LaterEpochSeconds / full.LaterEpochSeconds:F2}× wall, " +
                $"{r.LaterEpochCpuSeconds / full.LaterEpochCpuSeconds:F2}× CPU");
        }
        Report.WriteJson(Path.Combine(outputFolder, "speed-epochs.json"), results);
        File.WriteAllText(Path.Combine(outputFolder, "speed-epochs.md"), Markdown(results, quick));
        return results;
    }

    /// <summary>Tokens computed per real token over one epoch's batches (the first epoch's order, same seed as the trainer).</summary>
    private static double Padding(TaskDataset data, BaseModel baseModel, int maxTokens, bool grouped)
    {
        int[] lengths = data.Encode(baseModel.Tokenizer, maxTokens).Select(e => e.Tokens.InputIds.Length).ToArray();
        var random = new Random(Datasets.Seed);
        var batches = grouped ? LengthGroupedOrder.Batches(random, lengths, BatchSize) : LengthGroupedOrder.Shuffled(random, lengths.Length, BatchSize);
        return batches.Sum(b => (double)b.Length * b.Max(i => lengths[i])) / lengths.Sum();
    }

    private static string Markdown(IReadOnlyList<EpochVariantSpeed> results, bool quick)
    {
        var text = new StringBuilder();
        text.AppendLine($"### Epoch time on Banking77's length mix ({(quick ? "quick" : "full")} profile)");
        text.AppendLine();
        text.AppendLine($"PT2 P={PrefixLength}, batch {BatchSize}, {results[0].Rows} Banking77 train rows, fp32, no validation inside the timed epochs.");
        text.AppendLine();
        text.AppendLine(Report.Table(
            new[] { "configuration", "epoch s (wall)", "later epochs", "vs first row", "epoch s (CPU)", "later epochs (CPU)", "vs first row (CPU)",
                "vs grouped full depth (CPU)", "computed / real tokens", "cache MiB" },
            results.Select(r => (IReadOnlyList<string>)new[]
            {
                r.Label, string.Join(" / ", r.EpochSeconds.Select(s => Report.F(s, "F1"))), Report.F(r.LaterEpochSeconds, "F1"),
                Report.F(r.RatioToToday, "F2"), string.Join(" / ", r.EpochCpuSeconds.Select(s => Report.F(s, "F1"))),
                Report.F(r.LaterEpochCpuSeconds, "F1"), Report.F(r.CpuRatioToToday, "F2"),
                Report.F(r.LaterEpochCpuSeconds / results[1].LaterEpochCpuSeconds, "F2"),
                Report.F(r.PaddedPerRealToken, "F2"), Report.F(r.CacheBytes / 1048576.0, "F1"),
            })));
        return text.ToString();
    }
}
