using System.Diagnostics;
using System.Text;

namespace Microsoft.ML.PTuning.Benchmarks;

/// <summary>One training run of the projection study: a prefix form and its learning rates, and what came out.</summary>
internal sealed record ProjectionRecord(string Label, bool Projection, double LearningRate, double? ProjectionLearningRate,
    IReadOnlyList<double> ValidationCurve, double PrefixStd, double TrainSeconds);

/// <summary>
/// Why the reparameterized prefix (<c>PrefixProjection</c>) needs its own learning rate, and which one: Banking77,
/// prefix 32, the head at 1e-2 and 3e-2 (P-Tuning v2's range for the flat prefix), the prefix MLP at the head's rate
/// (the form that collapsed), 1e-3, 3e-4 and 1e-4, with the flat prefix at both rates as the reference. Records validation
/// accuracy per epoch and the standard deviation of the prefix's keys/values after training (the folded table; a flat
/// prefix starts at 1.0, the MLP's output at about 0.27). One profile, about 10 minutes on 2 idle cores; <c>--quick</c>
/// does not change it.
/// </summary>
internal sealed class ProjectionSuite
{
    private const int PrefixLength = 32;
    // (head rate, MLP rate); a null MLP rate is the flat prefix.
    private static readonly (double Head, double? Mlp)[] Runs =
    {
        (1e-2, null), (1e-2, 1e-2), (1e-2, 1e-3), (1e-2, 3e-4), (1e-2, 1e-4),
        (3e-2, null), (3e-2, 1e-3), (3e-2, 3e-4), (3e-2, 1e-4),
    };

    private static readonly QualityProfile Profile = QualityProfile.Subsampled with
    {
        Name = "projection",
        BankingTrain = 1000,
        BankingValidation = 200,
        BankingTest = 100,
        BankingEpochs = 2,
    };

    private readonly BenchmarkArguments _args;
    private readonly string _baseModel;

    public ProjectionSuite(BenchmarkArguments args, string baseModel)
    {
        _args = args;
        _baseModel = baseModel;
    }

    public void Run()
    {
        var clock = Stopwatch.StartNew();
        var mlContext = new MLContext(seed: Datasets.Seed);
        var dataset = Banking77Dataset.Load(mlContext, _args.DataFolder, Profile);
        Log.Line($"Projection suite: {dataset.Description} Prefix {PrefixLength}, {Profile.BankingEpochs} epochs.");
        var records = new List<ProjectionRecord>();
        foreach (var (headRate, mlpRate) in Runs)
        {
            string label = $"head {Report.F(headRate, "G3")}, " + (mlpRate is double r ? $"MLP {Report.F(r, "G3")}" : "flat prefix");
            var recorder = new EpochRecorder(label);
            var run = Stopwatch.StartNew();
            using PrefixTuningTransformer model = dataset.Fit(o =>
            {
                o.BaseModelPath = _baseModel;
                o.PrefixLength = PrefixLength;
                o.PrefixProjection = mlpRate is not null;
                o.PrefixProjectionLearningRate = mlpRate;
                o.LearningRate = headRate;
                o.MaxEpochs = Profile.BankingEpochs;
                o.BatchSize = Profile.BatchSize;
                o.EarlyStoppingPatience = 0;
                o.Seed = Datasets.Seed;
                o.Progress = recorder;
            });
            double seconds = run.Elapsed.TotalSeconds;
            // After Fit the prefix is the flat table the MLP computed (folded), so its spread is what attention saw.
            double std;
            using (TorchSharp.torch.no_grad())
                std = model.Engine.Model.Prefix!.Table().std().item<float>();
            var record = new ProjectionRecord(label, mlpRate is not null, headRate, mlpRate, recorder.ValidationMetrics.ToArray(), std, seconds);
            records.Add(record);
            Log.Line($"  {label}: validation accuracy {string.Join(" → ", record.ValidationCurve.Select(v => Report.F(v, "F3")))}, prefix std {std:F2} ({seconds:F0} s)");
            Report.WriteJson(Path.Combine(_args.OutputFolder, "projection.json"), records);
        }
        clock.Stop();
        WriteMarkdown(Path.Combine(_args.OutputFolder, "projection.md"), dataset.Description, records, clock.Elapsed);
        Log.Line($"Projection suite finished in {clock.Elapsed:hh\\:mm\\:ss}; wrote projection.json and projection.md to {_args.OutputFolder}.");
    }

    private static void WriteMarkdown(string path, string data, IReadOnlyList<ProjectionRecord> records, TimeSpan wall)
    {
        var md = new StringBuilder();
        md.AppendLine("# Prefix projection: learning rate of the MLP").AppendLine();
        md.AppendLine("- Command: `dotnet run -c Release --project test/Microsoft.ML.PTuning.Benchmarks -- projection`");
        md.AppendLine($"- Machine: {Report.Machine()}");
        md.AppendLine($"- {data} Prefix length {PrefixLength}, {Profile.BankingEpochs} epochs, batch {Profile.BatchSize}, seed {Datasets.Seed}; chance is 1/77 = 0.013");
        md.AppendLine($"- Wall time: {wall:hh\\:mm\\:ss}").AppendLine();
        md.Append(Report.Table(
            new[] { "learning rates", "validation accuracy per epoch", "prefix keys/values std after training", "train s" },
            records.Select(r => new[]
            {
                r.Label,
                string.Join(" → ", r.ValidationCurve.Select(v => Report.F(v, "F3"))),
                Report.F(r.PrefixStd, "F2"),
                Report.F(r.TrainSeconds, "F0"),
            })));
        File.WriteAllText(path, md.ToString());
    }
}
