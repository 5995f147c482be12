using System.Diagnostics;
using System.Text;
using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Runtime;
using TorchSharp;

namespace Microsoft.ML.PTuning.Benchmarks;

/// <summary>
/// Partial depth against full depth (issue 14, item 4), and length-grouped against plain shuffled batches (item 3):
/// P-Tuning v2 with the prefix in every layer (grouped and shuffled batches), in the top half (k = L/2) and in the top
/// layer (k = 1), and full depth over a bf16 backbone (the Precision option's accuracy), on seeded subsets of Banking77 and WNUT-17 (full profile: 800 / 500 training
/// rows, 3 epochs — sized for a shared 2-core machine), one learning rate, the quality suite's training and scoring;
/// before them, the speed suite's epoch rows. Writes depth.json and depth.md (and the epoch rows'
/// speed-epochs.*).
/// </summary>
internal sealed class DepthSuite
{
    private const int PrefixLength = 32;
    private const double LearningRate = 3e-2;   // the rate the quality suite's full profile chose for PT2 P=32 on both sets

    private readonly BenchmarkArguments _args;
    private readonly string _baseModel;

    public DepthSuite(BenchmarkArguments args, string baseModel)
    {
        _args = args;
        _baseModel = baseModel;
    }

    public void Run()
    {
        var clock = Stopwatch.StartNew();
        var profile = _args.Quick
            ? QualityProfile.Quick
            : QualityProfile.Subsampled with
            {
                BankingTrain = 800,
                BankingValidation = 300,
                BankingTest = 1000,
                WnutTrain = 500,
                WnutValidation = 300,
                WnutTest = 500,
            };
        profile = profile with
        {
            LearningRates = new Dictionary<TuningMethod, double[]> { [TuningMethod.PrefixTuning] = new[] { LearningRate } },
        };
        Log.Line($"Depth suite: PT2 P={PrefixLength}, lr {LearningRate}, {profile.Describe()}.");
        var quality = new QualitySuite(_args, _baseModel, profile);
        var mlContext = new MLContext(seed: Datasets.Seed);
        int layers = EncoderConfig.Load(Path.Combine(_baseModel, "config.json")).NumHiddenLayers;
        // The epoch rows first: they are the shorter part, and what they write stands alone.
        var texts = Datasets.Banking77(mlContext, _args.DataFolder, null, null, null);
        EpochSpeedRows.Run(BaseModel.Load(_baseModel, torch.CPU, log: null), texts, _args.Quick, _args.OutputFolder);

        QualityDataset[] datasets =
        {
            Banking77Dataset.Load(mlContext, _args.DataFolder, profile),
            Wnut17Dataset.Load(mlContext, _args.DataFolder, profile),
        };
        var records = new List<QualityRecord>();
        var descriptions = new List<string>();
        foreach (var dataset in datasets)
        {
            Log.Line(dataset.Description);
            descriptions.Add(dataset.Description);
            int epochs = dataset.Kind == TaskKind.SequenceClassification ? profile.BankingEpochs : profile.WnutEpochs;
            // Full depth first (the rows' reference), then plain shuffled batches (what grouping replaced), then partial
            // depth, then full depth with the backbone in bf16 (the Precision option's accuracy against fp32).
            var variants = new (int? Depth, bool Grouped, ComputePrecision Precision)[]
            {
                (null, true, ComputePrecision.Float32), (null, false, ComputePrecision.Float32), (layers / 2, true, ComputePrecision.Float32),
                (1, true, ComputePrecision.Float32), (null, true, ComputePrecision.BFloat16),
            };
            foreach (var (depth, grouped, precision) in variants)
            {
                records.Add(quality.RunMethod(dataset, new MethodConfig(TuningMethod.PrefixTuning, PrefixLength, false, depth, grouped, precision), epochs));
                Report.WriteJson(Path.Combine(_args.OutputFolder, "depth.json"), records);
            }
        }

        clock.Stop();
        File.WriteAllText(Path.Combine(_args.OutputFolder, "depth.md"), Markdown(records, descriptions, clock.Elapsed));
        Log.Line($"Depth suite finished in {clock.Elapsed:hh\\:mm\\:ss}; wrote depth.json, depth.md, speed-epochs.json and speed-epochs.md to {_args.OutputFolder}.");
    }

    private string Markdown(IReadOnlyList<QualityRecord> records, IReadOnlyList<string> descriptions, TimeSpan elapsed)
    {
        var text = new StringBuilder();
        text.AppendLine($"## Partial depth against full depth ({(_args.Quick ? "quick" : "full")} profile)");
        text.AppendLine();
        text.AppendLine($"Command: `dotnet run -c Release --project test/Microsoft.ML.PTuning.Benchmarks -- depth{(_args.Quick ? " --quick" : "")}`; " +
            $"machine: {Report.Machine()}; base {Path.GetFileName(_baseModel)}; {elapsed:hh\\:mm\\:ss}.");
        text.AppendLine();
        foreach (string description in descriptions)
            text.AppendLine($"- {description}");
        text.AppendLine();
        text.AppendLine(Report.Table(
            new[] { "dataset", "configuration", "test metric", "vs full depth (points)", "best validation", "best epoch", "train s (with validation)", "trainable" },
            records.Select(r =>
            {
                var full = records.First(f => f.Dataset == r.Dataset);
                return (IReadOnlyList<string>)new[]
                {
                    r.Dataset, r.Label, Report.F(r.Metric, "F4"), Report.F(100 * (r.Metric - full.Metric), "+0.0;-0.0;0.0"),
                    Report.F(r.ValidationMetric, "F4"), r.BestEpoch.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    Report.F(r.TrainSeconds, "F0"), r.TrainableParameters.ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
                };
            })));
        text.AppendLine(File.ReadAllText(Path.Combine(_args.OutputFolder, "speed-epochs.md")));
        return text.ToString();
    }
}
