using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.PTuning.Tests.Pipeline;

[Collection(PipelineCollection.Name)]
public class TrainingControlTests(ITestOutputHelper output)
{
    /// <summary>Collects reports on the training thread (Progress&lt;T&gt; would post them elsewhere, later).</summary>
    private sealed class Recorder(Action<PrefixTuningProgress>? onReport = null) : IProgress<PrefixTuningProgress>
    {
        public List<PrefixTuningProgress> Reports { get; } = [];

        public void Report(PrefixTuningProgress value)
        {
            Reports.Add(value);
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
        var recorder = new Recorder(_ => cancel.Cancel());
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
