using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Pipeline;

/// <summary>PrefixDepth through the public API: k = L is full depth, k &lt; L saves and loads, other values are refused.</summary>
[Collection(PipelineCollection.Name)]
public class PartialDepthPipelineTests(TrainedModels models)
{
    private static PrefixTuningTextClassificationOptions Options(int? depth)
    {
        var options = TinyData.TextOptions(TinyBaseModel.Get());
        options.PrefixDepth = depth;
        return options;
    }

    [Fact]
    public void DepthOfEveryLayerTrainsExactlyAsFullDepth()
    {
        // The tiny base has 2 layers; the shared fixture trained the same options without PrefixDepth.
        var mlContext = new MLContext(seed: 1);
        ITransformer model = TinyData.TextPipeline(mlContext, Options(depth: 2)).Fit(models.TextData);
        Assert.Equal(0f, TinyData.MaxDifference(TinyData.Scores(models.Text.Transform(models.TextData)), TinyData.Scores(model.Transform(models.TextData))));
    }

    [Fact]
    public void APartialDepthModelLearnsSavesAndLoadsWithItsDepth()
    {
        var mlContext = new MLContext(seed: 1);
        ITransformer model = TinyData.TextPipeline(mlContext, Options(depth: 1)).Fit(models.TextData);
        var prefix = TinyData.PrefixTuningOf(model);
        Assert.Equal(1, prefix.Trained.Spec.PrefixDepth);
        Assert.Equal(1, prefix.Engine.Model.Prefix!.LayerCount);
        var predicted = model.Transform(models.TextData).GetColumn<string>("PredictedText").ToArray();
        var labels = models.TextData.GetColumn<string>("Label").ToArray();
        Assert.True(predicted.Zip(labels).Count(p => p.First == p.Second) > labels.Length / 2, "the partial-depth model did not learn the tiny task");

        string path = Path.Combine(TestPaths.NewTempFolder("depth-zip"), "model.zip");
        mlContext.Model.Save(model, models.TextData.Schema, path);
        ITransformer loaded = new MLContext(seed: 2).Model.Load(path, out _);
        var loadedPrefix = TinyData.PrefixTuningOf(loaded);
        Assert.Equal(1, loadedPrefix.Trained.Spec.PrefixDepth);
        Assert.Equal(1, loadedPrefix.Engine.Model.Prefix!.LayerCount);
        Assert.Equal(0f, TinyData.MaxDifference(TinyData.Scores(model.Transform(models.TextData)), TinyData.Scores(loaded.Transform(models.TextData))));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void ADepthOutsideTheBaseModelsLayersIsRefusedNamingTheOption(int depth)
    {
        var mlContext = new MLContext(seed: 1);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => TinyData.TextPipeline(mlContext, Options(depth)).Fit(models.TextData));
        Assert.Equal(nameof(PrefixTuningOptions.PrefixDepth), error.ParamName);
        Assert.Contains("PrefixDepth", error.Message);
    }
}
