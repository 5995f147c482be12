using Microsoft.ML.Data;
using Microsoft.ML.PTuning.Checkpoints;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Pipeline;

/// <summary>The Pooling option through the public API: Auto reads the base folder, every method takes it, the zip keeps it.</summary>
[Collection(PipelineCollection.Name)]
public class PoolingPipelineTests(TrainedModels models)
{
    // A tiny base laid out as a sentence-transformers folder that mean-pools.
    private static readonly Lazy<string> MeanPoolingBase = new(() =>
    {
        string folder = TinyBaseModel.Copy(TinyBaseModel.Get("bert"));
        var (modules, config) = SentenceTransformersPooling.Describe(PoolingMode.Mean, 32);
        File.WriteAllText(Path.Combine(folder, SentenceTransformersPooling.ModulesFileName), modules.ToJsonString());
        Directory.CreateDirectory(Path.Combine(folder, SentenceTransformersPooling.DefaultPoolingFolder));
        File.WriteAllText(Path.Combine(folder, SentenceTransformersPooling.DefaultPoolingFolder, "config.json"), config.ToJsonString());
        return folder;
    });

    private PrefixTuningTransformer Fit(string baseFolder, PoolingMode pooling, TuningMethod method = TuningMethod.PrefixTuning, int epochs = 8)
    {
        var options = TinyData.TextOptions(baseFolder, method, epochs);
        options.Pooling = pooling;
        return TinyData.PrefixTuningOf(TinyData.TextPipeline(new MLContext(seed: 1), options).Fit(models.TextData));
    }

    [Theory]
    [InlineData(PoolingMode.Auto, PoolingMode.Mean)]
    [InlineData(PoolingMode.Cls, PoolingMode.Cls)]
    public void AutoFollowsASentenceTransformersFolderAndAnExplicitChoiceWins(PoolingMode asked, PoolingMode expected) =>
        Assert.Equal(expected, Fit(MeanPoolingBase.Value, asked, epochs: 1).Trained.Spec.Pooling);

    [Fact]
    public void AutoOverAPlainFolderIsCls()
    {
        Assert.Equal(PoolingMode.Cls, Fit(TinyBaseModel.Get("bert"), PoolingMode.Auto, epochs: 1).Trained.Spec.Pooling);
        Assert.Equal(PoolingMode.Cls, TinyData.PrefixTuningOf(models.Text).Trained.Spec.Pooling);
    }

    [Theory]
    [InlineData(TuningMethod.PrefixTuning)]
    [InlineData(TuningMethod.LinearProbe)]
    [InlineData(TuningMethod.PromptTuning)]
    [InlineData(TuningMethod.FullFineTuning)]
    public void EveryMethodTrainsAMeanPooledHeadThatSavesAndLoadsWithIt(TuningMethod method)
    {
        var mlContext = new MLContext(seed: 1);
        var options = TinyData.TextOptions(TinyBaseModel.Get("bert"), method, epochs: method == TuningMethod.LinearProbe ? 12 : 8);
        options.Pooling = PoolingMode.Mean;
        ITransformer model = TinyData.TextPipeline(mlContext, options).Fit(models.TextData);
        Assert.Equal(PoolingMode.Mean, TinyData.PrefixTuningOf(model).Trained.Spec.Pooling);

        string path = Path.Combine(TestPaths.NewTempFolder("pooling-zip"), "model.zip");
        mlContext.Model.Save(model, models.TextData.Schema, path);
        ITransformer loaded = new MLContext(seed: 2).Model.Load(path, out _);
        Assert.Equal(PoolingMode.Mean, TinyData.PrefixTuningOf(loaded).Trained.Spec.Pooling);
        Assert.Equal(0f, TinyData.MaxDifference(TinyData.Scores(model.Transform(models.TextData)), TinyData.Scores(loaded.Transform(models.TextData))));
    }

    [Fact]
    public void AMeanPooledPrefixLearnsTheTinyTask()
    {
        var options = TinyData.TextOptions(TinyBaseModel.Get("bert"));
        options.Pooling = PoolingMode.Mean;
        ITransformer model = TinyData.TextPipeline(new MLContext(seed: 1), options).Fit(models.TextData);
        var predicted = model.Transform(models.TextData).GetColumn<string>("PredictedText").ToArray();
        var labels = models.TextData.GetColumn<string>("Label").ToArray();
        Assert.True(predicted.Zip(labels).Count(p => p.First == p.Second) > labels.Length * 2 / 3, "the mean-pooled prefix did not learn the tiny task");
    }
}
