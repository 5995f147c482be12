using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML.PTuning.Training;
using TorchSharp;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Pipeline;

/// <summary>
/// Resumable training: a run stopped at any point (cancelled in the middle of an epoch, or killed with SIGKILL in another
/// process) and fitted again with the same checkpoint folder ends with the same scores, bit for bit, as a run that was
/// never stopped; checkpoints of other runs are not used; damaged or crafted ones are refused naming the file.
/// </summary>
[Collection(PipelineCollection.Name)]
[FreshProcessCommands]
public class CheckpointTests
{
    static CheckpointTests()
    {
        // The child of the kill test: trains with per-epoch checkpoints, slowly enough for the parent to kill it mid-run.
        FreshProcess.Register("fit-with-checkpoints", args =>
        {
            torch.set_num_threads(int.Parse(args[2], CultureInfo.InvariantCulture));
            var mlContext = new MLContext(seed: 1);
            var (train, validation) = Data(mlContext);
            var options = Options(args[0], args[1], validation, epochs: KillTestEpochs);
            options.Progress = new Reports(r =>
            {
                if (r.EndOfEpoch)
                    Thread.Sleep(40);
            });
            mlContext.Transforms.Text.PrefixTuning(options).Fit(train).Dispose();
            return "finished";
        });
    }

    private const int KillTestEpochs = 25;

    /// <summary>Reports on the training thread, in order.</summary>
    private sealed class Reports(Action<PrefixTuningProgress> report) : IProgress<PrefixTuningProgress>
    {
        public void Report(PrefixTuningProgress value) => report(value);
    }

    private static (IDataView Train, IDataView Validation) Data(MLContext mlContext)
    {
        IDataView train = TinyData.LoadSingle(mlContext, TinyData.Text(perClass: 8, seed: 1));
        IDataView validation = TinyData.LoadSingle(mlContext, TinyData.Text(perClass: 4, seed: 21));
        var keys = mlContext.Transforms.Conversion.MapValueToKey("Label").Fit(train);
        return (keys.Transform(train), keys.Transform(validation));
    }

    /// <summary>Tiny text classification with validation (so best-epoch weights are part of the state) and no early stop.</summary>
    private static PrefixTuningTextClassificationOptions Options(string baseModel, string? checkpointFolder, IDataView validation, int epochs)
    {
        var options = TinyData.TextOptions(baseModel, epochs: epochs);
        options.ValidationSet = validation;
        options.EarlyStoppingPatience = 0;
        options.CheckpointFolder = checkpointFolder;
        return options;
    }

    /// <summary>Fits and returns the validation rows' scores and the log lines.</summary>
    private static (float[][] Scores, List<string> Log) FitAndScore(PrefixTuningTextClassificationOptions options, Action<PrefixTuningProgress>? onReport = null)
    {
        var mlContext = new MLContext(seed: 1);
        var log = new List<string>();
        mlContext.Log += (_, e) =>
        {
            lock (log)
                log.Add(e.Message);
        };
        var (train, validation) = Data(mlContext);
        options.ValidationSet = validation;
        if (onReport != null)
            options.Progress = new Reports(onReport);
        using var model = mlContext.Transforms.Text.PrefixTuning(options).Fit(train);
        return (TinyData.Scores(model.Transform(validation)), log);
    }

    private static IDataView Validation() => Data(new MLContext(seed: 1)).Validation;

    [Fact]
    public void ARunCancelledInTheMiddleOfAnEpochResumesAtItsStepAndEndsBitIdentical()
    {
        string baseModel = TinyBaseModel.Get();
        var (expected, _) = FitAndScore(Options(baseModel, null, Validation(), epochs: 3));

        // 24 rows in batches of 8: 3 steps per epoch. A checkpoint after every step; cancelled after step 4 (epoch 2, batch 1).
        string folder = TestPaths.NewTempFolder("checkpoint-interval");
        using var cancel = new CancellationTokenSource();
        var options = Options(baseModel, folder, Validation(), epochs: 3);
        options.CheckpointInterval = TimeSpan.FromTicks(1);
        options.CancellationToken = cancel.Token;
        Assert.ThrowsAny<OperationCanceledException>(() => FitAndScore(options, r =>
        {
            if (r.Step == 4)
                cancel.Cancel();
        }));
        Assert.True(File.Exists(Path.Combine(folder, TrainingCheckpoint.FileName)));

        options.CancellationToken = CancellationToken.None;
        var epochs = new List<int>();
        var (resumed, log) = FitAndScore(options, r =>
        {
            if (r.EndOfEpoch)
                epochs.Add(r.Epoch);
        });
        Assert.Contains(log, m => m.Contains("Resuming from") && m.Contains("at epoch 2, step 4 (1 of 3 batches"));
        Assert.Equal([2, 3], epochs);
        Assert.Equal(0f, TinyData.MaxDifference(expected, resumed));

        // The finished run's checkpoint stays: fitting again trains nothing and gives the same model.
        epochs.Clear();
        var (again, againLog) = FitAndScore(options, r =>
        {
            if (r.Stage == PrefixTuningProgress.ProgressStage.Training) // the base model's load still reports
                epochs.Add(r.Epoch);
        });
        Assert.Empty(epochs);
        Assert.Contains(againLog, m => m.Contains("training had finished"));
        Assert.Equal(0f, TinyData.MaxDifference(expected, again));
    }

    [Fact]
    public async Task AFitKilledInAnotherProcessResumesHereWithIdenticalPredictions()
    {
        string baseModel = TinyBaseModel.Get();
        string folder = TestPaths.NewTempFolder("checkpoint-kill");
        string file = Path.Combine(folder, TrainingCheckpoint.FileName);
        using (Process child = FreshProcess.Start("fit-with-checkpoints", environment: null, baseModel, folder, torch.get_num_threads().ToString(CultureInfo.InvariantCulture)))
        {
            var stdout = child.StandardOutput.ReadToEndAsync();
            var stderr = child.StandardError.ReadToEndAsync();
            var waited = Stopwatch.StartNew();
            while (!File.Exists(file) && !child.HasExited && waited.Elapsed < TimeSpan.FromMinutes(2))
                Thread.Sleep(10);
            Thread.Sleep(200); // train on for a few epochs: the kill may land anywhere, a save included
            if (child.HasExited)
                Assert.Fail($"the child ended before it was killed:\n{await stderr}\n{await stdout}");
            child.Kill(); // SIGKILL: no finally block, no flush
            await child.WaitForExitAsync();
        }
        Assert.True(File.Exists(file));

        var (expected, _) = FitAndScore(Options(baseModel, null, Validation(), KillTestEpochs));
        var (resumed, log) = FitAndScore(Options(baseModel, folder, Validation(), KillTestEpochs));
        string resuming = Assert.Single(log, m => m.Contains("Resuming from"));
        Assert.DoesNotContain("training had finished", resuming);
        Assert.Equal(0f, TinyData.MaxDifference(expected, resumed));
        Assert.Empty(Directory.GetFiles(folder, "*.tmp")); // a temp file of the killed writer is removed
    }

    [Fact]
    public void ACheckpointOfAnotherRunIsNotUsed()
    {
        string baseModel = TinyBaseModel.Get();
        string folder = TestPaths.NewTempFolder("checkpoint-other");
        FitAndScore(Options(baseModel, folder, Validation(), epochs: 2));

        var other = Options(baseModel, folder, Validation(), epochs: 2);
        other.Seed = 8;
        var (scores, log) = FitAndScore(other);
        Assert.Contains(log, m => m.Contains("is of another run"));
        Assert.DoesNotContain(log, m => m.Contains("Resuming from"));
        var fresh = Options(baseModel, null, Validation(), epochs: 2);
        fresh.Seed = 8;
        Assert.Equal(0f, TinyData.MaxDifference(FitAndScore(fresh).Scores, scores));
    }

    [Fact]
    public void AnUnusableCheckpointFolderOrIntervalFailsBeforeTraining()
    {
        string notAFolder = Path.Combine(TestPaths.NewTempFolder("checkpoint-file"), "taken");
        File.WriteAllText(notAFolder, "a file, not a folder");
        int reports = 0;
        var io = Assert.ThrowsAny<IOException>(() => FitAndScore(Options(TinyBaseModel.Get(), notAFolder, Validation(), epochs: 1), r =>
        {
            if (r.Stage == PrefixTuningProgress.ProgressStage.Training)
                reports++;
        }));
        Assert.Contains(notAFolder, io.Message);
        Assert.Equal(0, reports);

        var options = Options(TinyBaseModel.Get(), TestPaths.NewTempFolder("checkpoint-interval-zero"), Validation(), epochs: 1);
        options.CheckpointInterval = TimeSpan.Zero;
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => FitAndScore(options));
        Assert.Equal(nameof(PrefixTuningOptions.CheckpointInterval), error.ParamName);
    }

    /// <summary>Options of a one-epoch run that has trained and left its checkpoint, and that checkpoint's path.</summary>
    private static (PrefixTuningTextClassificationOptions Options, string File) FinishedRun(string name)
    {
        string folder = TestPaths.NewTempFolder(name);
        var options = Options(TinyBaseModel.Get(), folder, Validation(), epochs: 1);
        FitAndScore(options);
        return (options, Path.Combine(folder, TrainingCheckpoint.FileName));
    }

    [Fact]
    public void ADamagedCheckpointIsAnErrorNamingTheFile()
    {
        var (options, file) = FinishedRun("checkpoint-damaged");
        byte[] good = File.ReadAllBytes(file);

        void Refused(byte[] content, string expected)
        {
            File.WriteAllBytes(file, content);
            var error = Assert.Throws<InvalidDataException>(() => FitAndScore(options));
            Assert.Contains(file, error.Message);
            Assert.Contains(expected, error.Message);
        }

        // A bit flipped anywhere, or the file cut anywhere: the digest (or the size bound) catches it.
        for (int i = 0; i < 8; i++)
        {
            byte[] flipped = (byte[])good.Clone();
            flipped[(int)((long)good.Length * i / 8)] ^= (byte)(1 << (i % 8));
            Refused(flipped, "digest");
            Refused(good[..(int)((long)good.Length * (i + 1) / 9)], "digest");
        }

        // Resealed with a valid digest, so the structure checks behind it are what refuses the file.
        byte[] Resealed(byte[] content)
        {
            byte[] body = content[..^32];
            return [.. body, .. System.Security.Cryptography.SHA256.HashData(body)];
        }
        byte[] otherVersion = (byte[])good.Clone();
        otherVersion[8] = 2;
        Refused(Resealed(otherVersion), "format version is 2");
        byte[] otherMagic = (byte[])good.Clone();
        otherMagic[0] = (byte)'X';
        Refused(Resealed(otherMagic), "magic");
        Refused(Resealed([.. good[..^32], 1, 2, 3, .. good[^32..]]), "follow the last tensor");
        Refused(good[..10], "size");
        Refused(Encoding.UTF8.GetBytes(new string('x', 4000)), "digest");
        Refused(new byte[4 << 20], "size"); // more than four copies of the weights and the history could take: refused unread
    }

    [Fact]
    public void ACraftedCheckpointWithAWrongTensorShapeIsRefusedNamingTheTensor()
    {
        var (options, file) = FinishedRun("checkpoint-crafted");

        // Rewrite it as its own writer would (valid digest, same fingerprint) with one tensor of another shape.
        string fingerprint;
        using (var reader = new BinaryReader(File.OpenRead(file)))
        {
            reader.ReadBytes(8 + 4);
            fingerprint = reader.ReadString();
        }
        var checkpoint = new TrainingCheckpoint(Path.GetDirectoryName(file)!, TimeSpan.FromMinutes(1), fingerprint, log: null);
        using (var state = checkpoint.Load(long.MaxValue)!)
        {
            var tensors = state.Tensors.ToDictionary(p => p.Key, p => p.Value.clone());
            string victim = tensors.Keys.First(k => k.StartsWith(TrainerState.Parameter + "/", StringComparison.Ordinal));
            tensors[victim].Dispose();
            tensors[victim] = torch.zeros(2, 3);
            using var crafted = state with { Tensors = tensors };
            checkpoint.Save(crafted, "crafted");

            var error = Assert.Throws<InvalidDataException>(() => FitAndScore(options));
            Assert.Contains(file, error.Message);
            Assert.Contains("does not fit this run", error.Message);
            Assert.Contains(victim, error.Message);
        }
    }
}
