using System.Xml.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.PTuning.Runtime;
using TorchSharp;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Sweeps;

/// <summary>
/// Sweeps train with torch's process-wide generator, so they run alone (no other test draws from it meanwhile) and on
/// one intra-op thread: for models this small a second thread only adds synchronisation, which on a busy 2-core
/// machine made a 2 s sweep take 90 s.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SweepCollection : ICollectionFixture<SingleTorchThread>
{
    public const string Name = "Sweeps (not parallel)";
}

public sealed class SingleTorchThread : IDisposable
{
    private readonly int _before = torch.get_num_threads();

    public SingleTorchThread() => torch.set_num_threads(1);

    public void Dispose() => torch.set_num_threads(_before);
}

/// <summary>Reports synchronously, in order, on the sweep's thread (unlike <see cref="Progress{T}"/>).</summary>
internal sealed class SyncProgress(Action<PrefixTuningSweepProgress> report) : IProgress<PrefixTuningSweepProgress>
{
    public void Report(PrefixTuningSweepProgress value) => report(value);
}

[Collection(SweepCollection.Name)]
public sealed class PrefixTuningSweeperTests
{
    private static readonly int[] ShortAndLong = [4, 16];
    private static readonly double[] TwoRates = [1e-2, 3e-2];

    private readonly MLContext _ml = new(seed: 1);
    private readonly IDataView _train;
    private readonly IDataView _validation;

    public PrefixTuningSweeperTests()
    {
        _train = TinySweepBaseModel.KeywordTask(_ml, rows: 96, seed: 1);
        _validation = TinySweepBaseModel.KeywordTask(_ml, rows: 48, seed: 2);
    }

    private PrefixTuningSweepResult Sweep(string folder, int maxEpochs, PrefixTuningSweepOptions sweep) =>
        new PrefixTuningSweeper(_ml, TinySweepBaseModel.Options(folder, maxEpochs), sweep).Run(_train, _validation);

    [Fact]
    public void DefaultSearchSpaceComesFromTheOptionAttributes()
    {
        var sweeper = new PrefixTuningSweeper(_ml, new PrefixTuningTextClassificationOptions(), new PrefixTuningSweepOptions());
        var (lengths, rates) = sweeper.SearchSpace;

        // [Choice(4, 8, 16, 32, 64, 128)] on PrefixLength; [Range(1e-4, 5e-2, init 1e-2)] on LearningRate → init ÷ 3, init, × 3.
        Assert.Equal([4, 8, 16, 32, 64, 128], lengths);
        Assert.Equal(3, rates.Count);
        Assert.Equal(1e-2 / 3, rates[0], 12);
        Assert.Equal(1e-2, rates[1], 12);
        Assert.Equal(3e-2, rates[2], 12);

        var explicitSpace = new PrefixTuningSweeper(_ml, new PrefixTuningTextClassificationOptions(),
            new PrefixTuningSweepOptions { PrefixLengths = [2], LearningRates = [0.5] }).SearchSpace;
        Assert.Equal([2], explicitSpace.PrefixLengths);
        Assert.Equal([0.5], explicitSpace.LearningRates);
    }

    [Fact]
    public void GridVisitsEveryCombinationOnceAndLoadsTheBackboneOnce()
    {
        string folder = TinySweepBaseModel.CreateFolder();
        var reports = new List<PrefixTuningSweepProgress>();
        var sweep = new PrefixTuningSweepOptions
        {
            PrefixLengths = [2, 4, 8],
            LearningRates = TwoRates,
            Strategy = SweepStrategy.Grid,
            Progress = new SyncProgress(reports.Add),
        };
        int loadsBefore = BaseModel.LoadCount;

        var result = Sweep(folder, maxEpochs: 2, sweep);

        var expected = new[] { 2, 4, 8 }.SelectMany(p => TwoRates.Select(r => (p, r))).ToList();
        Assert.Equal(expected, result.Trials.Select(t => (t.PrefixLength, t.LearningRate)).ToList());
        // Each trial trains once, in one block of epochs 1, 2, in trial order.
        var expectedReports = Enumerable.Range(0, 6).SelectMany(i => new[] { (i, 1), (i, 2) }).ToList();
        Assert.Equal(expectedReports, reports.Select(r => (r.Trial, r.Epoch)).ToList());
        Assert.Equal(Enumerable.Range(1, 12), reports.Select(r => r.TotalEpochs));
        Assert.All(reports, r => Assert.Equal(6, r.TrialCount));
        Assert.All(result.Trials, t => Assert.Equal((2, TrialStatus.Completed), (t.EpochsRun, t.Status)));
        Assert.Equal(12, result.TotalEpochs);
        // A longer prefix trains more scalars: 2 layers × 2 (key, value) × 32 per position, plus the same head.
        Assert.Equal(2 * 2 * 32 * (4 - 2), result.Trials[2].TrainableParameters - result.Trials[0].TrainableParameters);

        var best = result.Trials.OrderByDescending(t => t.BestMetric).ThenBy(t => t.Index).First();
        Assert.Same(best, result.BestTrial);
        Assert.Equal(best.PrefixLength, result.BestModel.PrefixLength);

        // One read of the backbone for six trials; the process-wide count agrees (this collection runs alone).
        Assert.Equal(1, result.BaseModelLoads);
        Assert.Equal(1, BaseModel.LoadCountOf(folder));
        Assert.Equal(1, BaseModel.LoadCount - loadsBefore);
        // A second sweep over the same folder reuses the loaded backbone.
        var again = Sweep(folder, maxEpochs: 1, new PrefixTuningSweepOptions { PrefixLengths = [2], LearningRates = [1e-2], Strategy = SweepStrategy.Grid });
        Assert.Equal(0, again.BaseModelLoads);
    }

    [Fact]
    public void SuccessiveHalvingTrainsFewerEpochsThanTheGridAndFindsItsBest()
    {
        // Positions 26 = prefix + tokens + 2 (RoBERTa's offset): prefix 4 leaves 20 token positions, enough for the
        // 13-token sentences; prefix 16 leaves 8, which cuts off the keyword at the end, so it cannot beat chance.
        string folder = TinySweepBaseModel.CreateFolder(maxPositionEmbeddings: TinySweepBaseModel.SmallPositionTable);
        var grid = Sweep(folder, maxEpochs: 6, new PrefixTuningSweepOptions
        {
            PrefixLengths = ShortAndLong,
            LearningRates = TwoRates,
            Strategy = SweepStrategy.Grid,
        });
        var halving = Sweep(folder, maxEpochs: 6, new PrefixTuningSweepOptions
        {
            PrefixLengths = ShortAndLong,
            LearningRates = TwoRates,
            Strategy = SweepStrategy.SuccessiveHalving,
            ReductionFactor = 2,
        });

        Assert.Equal(4, grid.BestTrial.PrefixLength);
        Assert.True(grid.BestTrial.BestMetric >= 0.8, $"prefix 4 should learn the keyword task: {grid.BestTrial}");
        Assert.All(grid.Trials.Where(t => t.PrefixLength == 16), t => Assert.True(t.BestMetric <= 0.6, $"prefix 16 should be at chance: {t}"));

        // 4 trials, η = 2, 6 epochs: rungs at 2 and 3 epochs, then the survivor to 6 → 2 + 2 + 3 + 6 = 13 epochs, not 24.
        Assert.Equal(24, grid.TotalEpochs);
        Assert.Equal(13, halving.TotalEpochs);
        Assert.Equal([2, 2, 3, 6], halving.Trials.Select(t => t.EpochsRun).Order());
        Assert.Equal([(TrialStatus.Completed, 6), (TrialStatus.Halved, 2), (TrialStatus.Halved, 2), (TrialStatus.Halved, 3)],
            halving.Trials.Select(t => (t.Status, t.EpochsRun)).Order());
        // Halving keeps what leads at its rungs, which need not be the grid's final best: with the encoder's dropout
        // stream of EncoderDropout, prefix 4 at 1e-2 learns only after epoch 4 (grid: 0.50 at epoch 3, 0.81 at 6) and
        // 3e-2 leads at the 3-epoch rung. It must still keep a prefix that can learn the task.
        Assert.Equal(4, halving.BestTrial.PrefixLength);

        // Interleaving trials does not change them: each trial's epochs equal the grid's first epochs of the same trial.
        foreach (var trial in halving.Trials)
            Assert.Equal(grid.Trials[trial.Index].ValidationMetrics.Take(trial.EpochsRun), trial.ValidationMetrics);

        // The best model round-trips through a zip with identical scores.
        string zip = Path.Combine(TestPaths.NewTempFolder("sweep-zip"), "best.zip");
        _ml.Model.Save(halving.BestModel, _train.Schema, zip);
        var reloaded = new MLContext(seed: 5).Model.Load(zip, out _);
        var before = TinySweepBaseModel.Scores(halving.BestModel, _validation);
        var after = TinySweepBaseModel.Scores(reloaded, _validation);
        Assert.Equal(before.Length, after.Length);
        for (int i = 0; i < before.Length; i++)
            Assert.Equal(before[i], after[i]);
        // ...and scores what the sweep measured: accuracy at its best epoch.
        var metrics = _ml.MulticlassClassification.Evaluate(reloaded.Transform(_validation));
        Assert.Equal(halving.BestTrial.BestMetric, metrics.MicroAccuracy, 9);
    }

    [Fact]
    public void RandomSearchRespectsMaxTrialsAndIsReproducibleWithASeed()
    {
        string folder = TinySweepBaseModel.CreateFolder();
        PrefixTuningSweepOptions Options(int seed) => new()
        {
            PrefixLengths = [1, 2, 4, 8],
            LearningRates = TwoRates,
            Strategy = SweepStrategy.Random,
            MaxTrials = 3,
            Seed = seed,
        };

        var first = Sweep(folder, maxEpochs: 1, Options(11));
        var second = Sweep(folder, maxEpochs: 1, Options(11));

        Assert.Equal(3, first.Trials.Count);
        Assert.Equal(3, first.Trials.Select(t => (t.PrefixLength, t.LearningRate)).Distinct().Count());
        Assert.All(first.Trials, t => Assert.Contains(t.PrefixLength, new[] { 1, 2, 4, 8 }));
        Assert.All(first.Trials, t => Assert.Contains(t.LearningRate, TwoRates));
        Assert.Equal(3, first.TotalEpochs);
        Assert.Equal(first.Trials.Select(t => (t.PrefixLength, t.LearningRate, t.BestMetric)),
            second.Trials.Select(t => (t.PrefixLength, t.LearningRate, t.BestMetric)));

        // Different seeds draw different subsets somewhere among a few tries (8 combinations, 3 drawn).
        var draws = Enumerable.Range(0, 5).Select(seed => string.Join(";", new PrefixTuningSweeper(_ml, TinySweepBaseModel.Options(folder, 1), Options(seed))
            .Run(_train, _validation).Trials.Select(t => $"{t.PrefixLength}/{t.LearningRate}"))).Distinct().Count();
        Assert.True(draws > 1);
    }

    /// <summary>A clock the test moves: each epoch "takes" one minute.</summary>
    private sealed class ManualTime : TimeProvider
    {
        public long Ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Ticks;
    }

    private PrefixTuningSweepResult SweepWithMinuteEpochs(string folder, SweepStrategy strategy, TimeSpan budget, int maxEpochs = 3)
    {
        var time = new ManualTime();
        var sweep = new PrefixTuningSweepOptions
        {
            PrefixLengths = [2, 4],
            LearningRates = [1e-2],
            Strategy = strategy,
            TimeBudget = budget,
            Progress = new SyncProgress(_ => time.Ticks += TimeSpan.TicksPerMinute),
        };
        var sweeper = new PrefixTuningSweeper(_ml, TinySweepBaseModel.Options(folder, maxEpochs), sweep) { TimeProvider = time };
        return sweeper.Run(_train, _validation);
    }

    [Fact]
    public void TimeBudgetStopsTheSweepAndStillReturnsTheBestModelSoFar()
    {
        string folder = TinySweepBaseModel.CreateFolder();

        // Budget 2.5 min: epochs 1-3 of trial 1 start at 0, 1, 2 min; trial 2 would start at 3 min.
        var grid = SweepWithMinuteEpochs(folder, SweepStrategy.Grid, TimeSpan.FromMinutes(2.5));
        Assert.Equal(3, grid.TotalEpochs);
        Assert.Equal((3, TrialStatus.Completed), (grid.Trials[0].EpochsRun, grid.Trials[0].Status));
        Assert.Equal((0, TrialStatus.NotRun), (grid.Trials[1].EpochsRun, grid.Trials[1].Status));
        Assert.EndsWith("(not run)", grid.Trials[1].ToString(), StringComparison.Ordinal);
        Assert.Same(grid.Trials[0], grid.BestTrial);
        Assert.Equal(_validation.GetRowCount(), TinySweepBaseModel.Scores(grid.BestModel, _validation).Length);
        Assert.Equal(TimeSpan.FromMinutes(3), grid.Elapsed);

        // Budget 1.5 min stops trial 1 in the middle.
        var cut = SweepWithMinuteEpochs(folder, SweepStrategy.Grid, TimeSpan.FromMinutes(1.5));
        Assert.Equal((2, TrialStatus.TimeBudget), (cut.Trials[0].EpochsRun, cut.Trials[0].Status));
        Assert.EndsWith("(time budget)", cut.Trials[0].ToString(), StringComparison.Ordinal);

        // Successive halving (2 trials, η 3, 3 epochs: a rung of 1 epoch each, then the better one to 3 epochs):
        // with 1.5 min both trials get their first epoch, and the sweep stops before the final rung.
        var halving = SweepWithMinuteEpochs(folder, SweepStrategy.SuccessiveHalving, TimeSpan.FromMinutes(1.5));
        Assert.Equal(2, halving.TotalEpochs);
        Assert.Contains(halving.Trials, t => t.Status == TrialStatus.TimeBudget);
        Assert.NotNull(halving.BestModel);

        // No time at all: no epoch can run, and the error says which option to change.
        var error = Assert.Throws<TimeoutException>(() => SweepWithMinuteEpochs(folder, SweepStrategy.Grid, TimeSpan.Zero));
        Assert.Contains("TimeBudget", error.Message);
    }

    [Fact]
    public void CancellationStopsTheSweep()
    {
        string folder = TinySweepBaseModel.CreateFolder();
        using var cancel = new CancellationTokenSource();
        int epochs = 0;
        var sweep = new PrefixTuningSweepOptions
        {
            PrefixLengths = [2, 4],
            LearningRates = [1e-2],
            Strategy = SweepStrategy.Grid,
            CancellationToken = cancel.Token,
            Progress = new SyncProgress(_ => { epochs++; cancel.Cancel(); }),
        };
        Assert.ThrowsAny<OperationCanceledException>(() => Sweep(folder, maxEpochs: 3, sweep));
        Assert.Equal(1, epochs);

        // Cancelled before it starts: nothing is loaded.
        string untouched = TinySweepBaseModel.CreateFolder();
        Assert.ThrowsAny<OperationCanceledException>(() => Sweep(untouched, maxEpochs: 3, sweep));
        Assert.Equal(0, BaseModel.LoadCountOf(untouched));
    }

    [Fact]
    public void SaveReportWritesTheTableAndAPlot()
    {
        string folder = TinySweepBaseModel.CreateFolder();
        var result = Sweep(folder, maxEpochs: 2, new PrefixTuningSweepOptions
        {
            PrefixLengths = [2, 4, 8],
            LearningRates = TwoRates,
            ReductionFactor = 2,
        });
        string output = Path.Combine(TestPaths.NewTempFolder("sweep-report"), "nested");

        string path = result.SaveReport(output);

        Assert.Equal(Path.Combine(output, "sweep-report.md"), path);
        string[] lines = File.ReadAllLines(path);
        var rows = lines.Where(l => l.StartsWith("| ", StringComparison.Ordinal) && char.IsDigit(l[2])).ToList();
        Assert.Equal(6, rows.Count);
        // Halving (η 2, 2 epochs) cuts the worse three after epoch 1; the status column says so in words.
        Assert.Equal(3, rows.Count(r => r.EndsWith("| halved at epoch 1 |", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.Contains($"Best: prefix length {result.BestTrial.PrefixLength}", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains($"Epochs trained: {result.TotalEpochs}.", StringComparison.Ordinal));
        Assert.Contains("![metric versus prefix length](metric-vs-prefix-length.svg)", lines);

        // The plot: an 800 × 500 SVG, one series per learning rate with a marker per trial, the prefix lengths as x ticks.
        var svg = XDocument.Load(Path.Combine(output, "metric-vs-prefix-length.svg")).Root!;
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Equal(ns + "svg", svg.Name);
        Assert.Equal(("800", "500"), ((string?)svg.Attribute("width"), (string?)svg.Attribute("height")));
        var series = svg.Elements(ns + "g").Where(g => (string?)g.Attribute("class") == "series").ToList();
        Assert.Equal(["lr 0.01", "lr 0.03"], series.Select(g => g.Element(ns + "title")!.Value));
        Assert.All(series, g => Assert.Equal(3, g.Elements(ns + "circle").Count()));
        Assert.All(series, g => Assert.Equal(3, g.Element(ns + "polyline")!.Attribute("points")!.Value.Split(' ').Length));
        Assert.Equal(["2", "4", "8"], svg.Elements(ns + "text").Where(t => (string?)t.Attribute("class") == "x-tick").Select(t => t.Value));
        Assert.Equal(["lr 0.01", "lr 0.03"], svg.Elements(ns + "text").Where(t => (string?)t.Attribute("class") == "legend").Select(t => t.Value));
        Assert.False(File.Exists(Path.Combine(output, "metric-vs-prefix-length.png")));
    }

    [Fact]
    public void HalvingRungsNeverRankTwiceOnTheSameEpochs()
    {
        // 6 trials, η = 3, 4 epochs: ⌈log₃ 6⌉ = 2 cuts would need rungs of 4/9 and 4/3 epochs, both 1 after rounding,
        // so the second cut would rank on the first one's evidence. One cut instead: 6 × 1 epoch, the best 2 to 4.
        string folder = TinySweepBaseModel.CreateFolder();
        var result = Sweep(folder, maxEpochs: 4, new PrefixTuningSweepOptions
        {
            PrefixLengths = [1, 2, 4],
            LearningRates = TwoRates,
            ReductionFactor = 3,
        });

        Assert.Equal([1, 1, 1, 1, 4, 4], result.Trials.Select(t => t.EpochsRun).Order());
        Assert.Equal(12, result.TotalEpochs);
        var finalists = result.Trials.Where(t => t.EpochsRun == 4).ToList();
        var cut = result.Trials.Where(t => t.EpochsRun == 1).ToList();
        // The finalists were the best two after the first epoch.
        Assert.True(finalists.Min(t => t.ValidationMetrics[0]) >= cut.Max(t => t.ValidationMetrics[0]));
        Assert.All(cut, t => Assert.Equal((TrialStatus.Halved, 1), (t.Status, t.EpochsRun)));
        // The status reads as words, with the epoch a halved trial stopped at.
        Assert.All(cut, t => Assert.EndsWith("(halved at epoch 1)", t.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public void BadOptionsAreRejectedNamingTheOption()
    {
        var text = new PrefixTuningTextClassificationOptions { BaseModelPath = TestPaths.NewTempFolder("sweep-bad") };
        Assert.Contains("ReductionFactor", Assert.Throws<ArgumentOutOfRangeException>(() =>
            new PrefixTuningSweeper(_ml, text, new PrefixTuningSweepOptions { ReductionFactor = 1 })).Message);
        Assert.Contains("MaxTrials", Assert.Throws<ArgumentOutOfRangeException>(() =>
            new PrefixTuningSweeper(_ml, text, new PrefixTuningSweepOptions { MaxTrials = -1 })).Message);
        var fullFineTuning = new PrefixTuningTextClassificationOptions { BaseModelPath = text.BaseModelPath, Method = TuningMethod.FullFineTuning };
        Assert.Contains("PrefixTuning", Assert.Throws<ArgumentException>(() =>
            new PrefixTuningSweeper(_ml, fullFineTuning, new PrefixTuningSweepOptions())).Message);

        string folder = TinySweepBaseModel.CreateFolder();
        Assert.Contains("PrefixLengths", Assert.Throws<ArgumentException>(() =>
            Sweep(folder, 1, new PrefixTuningSweepOptions { PrefixLengths = [], LearningRates = [1e-2] })).Message);
        Assert.Contains("LearningRates", Assert.Throws<ArgumentException>(() =>
            Sweep(folder, 1, new PrefixTuningSweepOptions { PrefixLengths = [4], LearningRates = [double.NaN] })).Message);
        Assert.Contains("EntityF1", Assert.Throws<ArgumentException>(() =>
            Sweep(folder, 1, new PrefixTuningSweepOptions { PrefixLengths = [4], LearningRates = [1e-2], Metric = SweepMetric.EntityF1 })).Message);
        Assert.Contains("BaseModelPath", Assert.Throws<ArgumentException>(() =>
            new PrefixTuningSweeper(_ml, new PrefixTuningTextClassificationOptions(), new PrefixTuningSweepOptions()).Run(_train, _validation)).Message);
    }

    [Theory]
    [InlineData(SweepStrategy.Grid)]              // 4 trials × 2 epochs = 8 epochs
    [InlineData(SweepStrategy.SuccessiveHalving)] // η 2, 4 epochs: 4 × 1, then 2 to 2 epochs, then 1 to 4 = 8 epochs
    public void AnInterruptedSweepResumesFromItsCheckpointsWithoutRedoingFinishedEpochs(SweepStrategy strategy)
    {
        string baseModel = TinySweepBaseModel.CreateFolder();
        int trained = 0; // epochs trained by the last sweep: each is reported, reused ones are not
        PrefixTuningSweepResult Run(string? checkpointFolder, CancellationTokenSource? cancelAfterFive = null)
        {
            trained = 0;
            return Sweep(baseModel, maxEpochs: strategy == SweepStrategy.Grid ? 2 : 4, new PrefixTuningSweepOptions
            {
                PrefixLengths = ShortAndLong,
                LearningRates = TwoRates,
                Strategy = strategy,
                ReductionFactor = 2,
                CheckpointFolder = checkpointFolder,
                CancellationToken = cancelAfterFive?.Token ?? CancellationToken.None,
                Progress = new SyncProgress(_ =>
                {
                    if (++trained == 5)
                        cancelAfterFive?.Cancel();
                }),
            });
        }

        var uninterrupted = Run(checkpointFolder: null);
        Assert.Equal(8, trained);

        string folder = TestPaths.NewTempFolder("sweep-resume");
        using (var cancel = new CancellationTokenSource())
            Assert.ThrowsAny<OperationCanceledException>(() => Run(folder, cancel));
        Assert.Contains(Path.Combine(folder, "prefix-4_lr-0.01"), Directory.GetDirectories(folder));

        var log = new List<string>();
        _ml.Log += (_, e) =>
        {
            if (e.Message.Contains("Resuming from", StringComparison.Ordinal))
                log.Add(e.Message);
        };
        var resumed = Run(folder);

        Assert.Equal(8 - 5, trained); // the five epochs done before the interruption are not trained again
        Assert.NotEmpty(log);
        Assert.Equal(uninterrupted.TotalEpochs, resumed.TotalEpochs);
        Assert.Equal(uninterrupted.Trials.Select(t => (t.PrefixLength, t.LearningRate, t.Status, t.EpochsRun)),
            resumed.Trials.Select(t => (t.PrefixLength, t.LearningRate, t.Status, t.EpochsRun)));
        for (int i = 0; i < uninterrupted.Trials.Count; i++)
            Assert.Equal(uninterrupted.Trials[i].ValidationMetrics, resumed.Trials[i].ValidationMetrics);
        Assert.Equal(uninterrupted.BestTrial.Index, resumed.BestTrial.Index);
        var expected = TinySweepBaseModel.Scores(uninterrupted.BestModel, _validation);
        var actual = TinySweepBaseModel.Scores(resumed.BestModel, _validation);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i], actual[i]);

        // Once more: every trial is finished or retired, so nothing trains.
        Run(folder);
        Assert.Equal(0, trained);
    }
}
