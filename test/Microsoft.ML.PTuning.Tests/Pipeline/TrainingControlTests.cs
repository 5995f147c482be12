using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.PTuning.Tests.Pipeline;

[Collection(PipelineCollection.Name)]
public class TrainingControlTests(ITestOutputHelper output)
{
    /// <summary>Collects reports on the training thread (Progress&lt;T&gt; would post them elsewhere, later).</summary>
    private sealed class Recorder(Action<PrefixTuningProgress>? onReport = null) : IProgress<PrefixTuningProgress>
    {
        public List<PrefixTuningProgress> All { get; } = [];

        /// <summary>The training reports (the base model's load reports come first, in their own stage).</summary>
        public List<PrefixTuningProgress> Reports => All.Where(r => r.Stage == PrefixTuningProgress.ProgressStage.Training).ToList();

        public void Report(PrefixTuningProgress value)
        {
            All.Add(value);
            onReport?.Invoke(value);
        }
    }

    private static float[][] FitAndScore(PrefixTuningTextClassificationOptions options)
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = TinyData.LoadSingle(mlContext, TinyData.Text(perClass: 8, seed: 1));
        return TinyData.Scores(TinyData.TextPipeline(mlContext, options).Fit(data).Transform(data));
    }

    [Fact]
    public void TheSameSeedGivesIdenticalModelsAndAnotherSeedDoesNot()
    {
        var options = TinyData.TextOptions(TinyBaseModel.Get(), epochs: 2);
        float[][] first = FitAndScore(options);
        float[][] second = FitAndScore(options);
        Assert.Equal(0f, TinyData.MaxDifference(first, second));

        options.Seed = 8;
        Assert.True(TinyData.MaxDifference(first, FitAndScore(options)) > 1e-4);
    }

    [Fact]
    public void ProgressReportsEveryEpoch()
    {
        var recorder = new Recorder();
        var options = TinyData.TextOptions(TinyBaseModel.Get(), epochs: 3);
        options.Progress = recorder;
        FitAndScore(options);

        var epochs = recorder.Reports.Where(r => r.EndOfEpoch).ToList();
        Assert.Equal([1, 2, 3], epochs.Select(r => r.Epoch));
        Assert.All(recorder.Reports, r => Assert.Equal(3, r.MaxEpochs));
        Assert.All(recorder.Reports, r => Assert.True(double.IsFinite(r.Loss) && r.Loss > 0));
        Assert.All(recorder.Reports, r => Assert.Null(r.ValidationMetric));
        // 24 rows in batches of 8: 3 steps per epoch.
        Assert.Equal([3, 6, 9], epochs.Select(r => r.Step));
        Assert.All(recorder.Reports, r => Assert.Equal(9, r.TotalSteps));
        Assert.True(recorder.Reports.Select(r => r.Step).SequenceEqual(recorder.Reports.Select(r => r.Step).Order()));
    }

    [Fact]
    public void CancellationStopsTrainingWithOperationCanceled()
    {
        using var cancel = new CancellationTokenSource();
        var recorder = new Recorder(r => { if (r.Stage == PrefixTuningProgress.ProgressStage.Training) cancel.Cancel(); });
        var options = TinyData.TextOptions(TinyBaseModel.Get(), epochs: 50);
        options.Progress = recorder;
        options.CancellationToken = cancel.Token;
        Assert.ThrowsAny<OperationCanceledException>(() => FitAndScore(options));
        Assert.Single(recorder.Reports); // stopped at the step after the first report

        using var already = new CancellationTokenSource();
        already.Cancel();
        options.Progress = null;
        options.CancellationToken = already.Token;
        Assert.ThrowsAny<OperationCanceledException>(() => FitAndScore(options));
    }

    [Fact]
    public void TrainingReportsCarryAnEstimateOfTheTimeLeftThatReachesZero()
    {
        var recorder = new Recorder();
        var options = TinyData.TextOptions(TinyBaseModel.Get(), epochs: 3);
        options.Progress = recorder;
        FitAndScore(options);

        var reports = recorder.Reports;
        Assert.NotEmpty(reports);
        // Every report comes after at least one timed step, so each has an estimate; the last step leaves nothing.
        Assert.All(reports, r => Assert.NotNull(r.EstimatedRemaining));
        Assert.Equal(TimeSpan.Zero, reports[^1].EstimatedRemaining);
        Assert.All(reports.Where(r => r.Step == r.TotalSteps), r => Assert.Equal(TimeSpan.Zero, r.EstimatedRemaining));
        Assert.All(reports, r => Assert.Equal((r.Step, r.TotalSteps), (r.Completed, r.Total)));
        Assert.True(reports.Select(r => r.Elapsed).SequenceEqual(reports.Select(r => r.Elapsed).Order()), "elapsed time goes backwards");
        Assert.Contains("left", reports[0].ToString());
    }

    [Theory]
    [InlineData(10, 1, 9, 90)]
    [InlineData(10, 4, 4, 10)]
    [InlineData(10, 5, 0, 0)]
    public void TheEstimateScalesTheTimePerStepSoFar(int seconds, int stepsTimed, int stepsLeft, int expectedSeconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds),
            Microsoft.ML.PTuning.Training.TrainingReport.EstimateRemaining(TimeSpan.FromSeconds(seconds), stepsTimed, stepsLeft));
        Assert.Null(Microsoft.ML.PTuning.Training.TrainingReport.EstimateRemaining(TimeSpan.FromSeconds(seconds), 0, stepsLeft));
    }

    [Fact]
    public void LoadingTheBaseModelReportsEachStepBeforeTraining()
    {
        var recorder = new Recorder();
        var options = TinyData.TextOptions(TinyBaseModel.Create("roberta", seed: 31), epochs: 1); // a folder not loaded yet
        options.Progress = recorder;
        FitAndScore(options);

        var loading = recorder.All.TakeWhile(r => r.Stage == PrefixTuningProgress.ProgressStage.LoadingBaseModel).ToList();
        output.WriteLine(string.Join("\n", loading));
        Assert.Equal(loading.Count, recorder.All.Count(r => r.Stage == PrefixTuningProgress.ProgressStage.LoadingBaseModel));
        // hash + read the one weight file, identity, encoder, move, then ready.
        Assert.Equal(["hashing model.safetensors", "reading model.safetensors", "hashing config.json and the tokenizer files",
            "building the encoder"], loading.Take(4).Select(r => r.Description));
        Assert.Equal(Enumerable.Range(0, 6), loading.Select(r => r.Completed));
        Assert.All(loading, r => Assert.Equal(5, r.Total));
        Assert.Equal("ready", loading[^1].Description);
        Assert.All(loading, r => Assert.Null(r.EstimatedRemaining));
        Assert.Equal(0, loading[0].Epoch);

        // The same folder again: already loaded, so one report that says so.
        var again = new Recorder();
        options.Progress = again;
        FitAndScore(options);
        var second = Assert.Single(again.All, r => r.Stage == PrefixTuningProgress.ProgressStage.LoadingBaseModel);
        Assert.Equal((1, 1), (second.Completed, second.Total));
        Assert.Contains("already loaded", second.Description);
    }

    [Fact]
    public void CancellingTheMLContextStopsFitAndTransform()
    {
        // MLContext.CancelExecution is internal to ML.NET (AutoML calls it to end a trial), so the test reaches it by reflection.
        static void Cancel(MLContext context) => typeof(MLContext)
            .GetMethod("CancelExecution", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)!
            .Invoke(context, null);

        var mlContext = new MLContext(seed: 1);
        IDataView data = TinyData.LoadSingle(mlContext, TinyData.Text(perClass: 8, seed: 1));
        var recorder = new Recorder(r => { if (r.Stage == PrefixTuningProgress.ProgressStage.Training) Cancel(mlContext); });
        var options = TinyData.TextOptions(TinyBaseModel.Get(), epochs: 50);
        options.Progress = recorder;
        Assert.ThrowsAny<OperationCanceledException>(() => TinyData.TextPipeline(mlContext, options).Fit(data));
        Assert.Single(recorder.Reports); // stopped at the step after the first report

        // A model trained in one context, transformed in another that is then cancelled: reading the rows stops.
        var other = new MLContext(seed: 1);
        options.Progress = null;
        options.MaxEpochs = 1;
        var model = TinyData.TextPipeline(other, options).Fit(TinyData.LoadSingle(other, TinyData.Text(perClass: 8, seed: 1)));
        // Only this library's transformer over ML.NET's in-memory rows, so the stop can only come from its own check.
        IDataView scored = TinyData.PrefixTuningOf(model).Transform(TinyData.LoadSingle(other, TinyData.Text(perClass: 8, seed: 2)));
        Assert.Equal(24, TinyData.Scores(scored).Length);
        Cancel(other);
        Assert.ThrowsAny<OperationCanceledException>(() => TinyData.Scores(scored));
    }

    [Fact]
    public void NoDeviceOptionFollowsTheContextsGpuDeviceIdAndFallbackToCpu()
    {
        // TorchSharp-cpu: CUDA is never available here, so a GPU id is an error unless the context allows the fallback.
        Assert.False(TorchSharp.torch.cuda.is_available());
        var options = TinyData.TextOptions(TinyBaseModel.Get(), epochs: 1);

        var strict = new MLContext(seed: 1) { GpuDeviceId = 0 };
        IDataView data = TinyData.LoadSingle(strict, TinyData.Text(perClass: 8, seed: 1));
        var error = Assert.Throws<InvalidOperationException>(() => TinyData.TextPipeline(strict, options).Fit(data));
        Assert.Contains("GpuDeviceId is 0", error.Message);
        Assert.Contains("FallbackToCpu", error.Message);

        var lenient = new MLContext(seed: 1) { GpuDeviceId = 0, FallbackToCpu = true };
        var scores = TinyData.Scores(TinyData.TextPipeline(lenient, options).Fit(data).Transform(data));
        Assert.Equal(24, scores.Length);

        // The setting made after the pipeline was built still counts (a host copies it when registered).
        var late = new MLContext(seed: 1);
        var pipeline = TinyData.TextPipeline(late, options);
        late.GpuDeviceId = 0;
        Assert.Throws<InvalidOperationException>(() => pipeline.Fit(data));

        // An explicit Device wins over the context.
        options.Device = "cpu";
        Assert.Equal(24, TinyData.Scores(TinyData.TextPipeline(strict, options).Fit(data).Transform(data)).Length);
    }

    [Theory]
    [InlineData(null, null, false, true, 2, "CPU", null)]
    [InlineData(null, 1, false, true, 2, "CUDA", 1)]
    [InlineData(null, 1, true, false, 0, "CPU", null)]
    [InlineData(null, 3, true, true, 2, "CPU", null)]
    [InlineData("cuda:1", null, false, true, 2, "CUDA", 1)]
    [InlineData("cpu", 0, false, true, 2, "CPU", null)]
    public void DeviceChoiceOnAMachineWithOrWithoutCuda(string? device, int? gpuId, bool fallback, bool cuda, int count, string type, int? index)
    {
        var log = new List<string>();
        var (chosen, at) = Microsoft.ML.PTuning.Runtime.DeviceSelection.Choose(device, gpuId, fallback, cuda, count, log.Add);
        Assert.Equal((type, index), (chosen.ToString(), at));
        Assert.Equal(gpuId != null && device == null && type == "CPU", log.Count == 1);
    }

    [Fact]
    public void AGpuIdBeyondTheMachinesDevicesWithoutFallbackIsAnError()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Microsoft.ML.PTuning.Runtime.DeviceSelection.Choose(null, 2, false, true, 2, null));
        Assert.Contains("CUDA devices 0 to 1", error.Message);
    }

    [Fact]
    public void EarlyStoppingKeepsTheBestValidationEpoch()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView train = TinyData.LoadSingle(mlContext, TinyData.Text(perClass: 8, seed: 1));
        IDataView validation = TinyData.LoadSingle(mlContext, TinyData.Text(perClass: 8, seed: 21));
        var labelToKey = mlContext.Transforms.Conversion.MapValueToKey("Label").Fit(train);
        var recorder = new Recorder();
        var options = TinyData.TextOptions(TinyBaseModel.Get(), epochs: 12);
        options.LearningRate = 0.1; // large enough for validation accuracy to go up and down
        options.ValidationSet = labelToKey.Transform(validation);
        options.EarlyStoppingPatience = 2;
        options.Progress = recorder;
        var model = mlContext.Transforms.Text.PrefixTuning(options).Fit(labelToKey.Transform(train));

        var epochs = recorder.Reports.Where(r => r.EndOfEpoch).ToList();
        output.WriteLine(string.Join("\n", epochs));
        Assert.All(epochs, e => Assert.NotNull(e.ValidationMetric));
        double best = epochs.Max(e => e.ValidationMetric!.Value);
        int bestEpoch = epochs.First(e => e.ValidationMetric == best).Epoch;
        // Training ran to the end or stopped exactly `patience` epochs after the best one.
        Assert.True(epochs.Count == 12 || epochs.Count == bestEpoch + 2, $"{epochs.Count} epochs, best {bestEpoch}");

        var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(labelToKey.Transform(validation)));
        Assert.Equal(best, metrics.MicroAccuracy, 9);
    }
}
