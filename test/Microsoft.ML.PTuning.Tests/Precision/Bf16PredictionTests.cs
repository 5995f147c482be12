using System.IO.Compression;
using Microsoft.ML.Data;
using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Runtime;
using Microsoft.ML.PTuning.Tests.Pipeline;
using TorchSharp;
using TorchSharp.PyBridge;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Precision;

/// <summary>bf16 against fp32 on the tiny RoBERTa base: same classes, close probabilities, fp32 in the zip.</summary>
[Collection(PipelineCollection.Name)]
public class Bf16PredictionTests
{
    /// <summary>
    /// How far a class probability may move when the same trained task runs over a bf16 backbone: bf16 keeps 8 bits of
    /// mantissa (relative rounding 2⁻⁹ ≈ 0.002 per value), and the tiny encoder's two layers, LayerNorms and head amplify
    /// that into logits; 0.02 is about three times the largest difference seen on the tiny data (0.0074).
    /// </summary>
    private const float ProbabilityTolerance = 0.02f;

    private static (MLContext Context, ITransformer Model, IDataView Data) Fit(ComputePrecision precision, TuningMethod method = TuningMethod.PrefixTuning)
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = TinyData.LoadSingle(mlContext, TinyData.Text(perClass: 16, seed: 1));
        var options = TinyData.TextOptions(TinyBaseModel.Get(), method);
        options.Precision = precision;
        return (mlContext, TinyData.TextPipeline(mlContext, options).Fit(data), data);
    }

    private static float Margin(float[] probabilities)
    {
        var sorted = probabilities.OrderDescending().ToArray();
        return sorted[0] - sorted[1];
    }

    private static List<SentencePair> Inputs() =>
        TinyData.Text(perClass: 16, seed: 1).Concat(TinyData.Text(perClass: 8, seed: 5))
            .Select(r => new SentencePair(r.Sentence1, r.Sentence2)).ToList();

    [Fact]
    public void ATaskTrainedInFp32PredictsTheSameClassesOverABf16Backbone()
    {
        var (_, model, _) = Fit(ComputePrecision.Float32);
        var trained = TinyData.PrefixTuningOf(model).Trained;
        InferenceEngine fp32 = trained.Engine;
        Assert.Equal(ComputePrecision.Float32, fp32.Base.Precision);

        var bf16Base = BaseModel.Load(TinyBaseModel.Get(), torch.CPU, log: null, ComputePrecision.BFloat16);
        Assert.Equal(ComputePrecision.BFloat16, bf16Base.Precision);
        Assert.NotSame(fp32.Base, bf16Base);   // the cache keys on the precision
        Assert.Equal(torch.ScalarType.BFloat16, bf16Base.Encoder.parameters().First().dtype);
        var bf16Model = TaskModels.CreateForLoading(bf16Base, trained.Spec);
        bf16Model.LoadAdapterStateDict(fp32.Model.AdapterStateDict());
        using var bf16 = new InferenceEngine(bf16Base, bf16Model, fp32.MaxTokens, fp32.ClassCount);
        bf16Model.eval();

        var inputs = Inputs();
        float[][] expected = fp32.Classify(inputs), actual = bf16.Classify(inputs);
        float difference = TinyData.MaxDifference(expected, actual);
        Assert.True(difference <= ProbabilityTolerance, $"bf16 moved a probability by {difference} (tolerance {ProbabilityTolerance}).");
        // Where fp32's top two classes are further apart than bf16 can move them, the class must not change. (The tiny
        // model leaves some rows at near ties, e.g. 0.401 against 0.399, which either precision may break either way.)
        var decided = Enumerable.Range(0, inputs.Count).Where(i => Margin(expected[i]) > 2 * ProbabilityTolerance).ToList();
        Assert.True(decided.Count >= inputs.Count / 2, $"only {decided.Count} of {inputs.Count} rows have a clear class; the test says little");
        Assert.Equal(decided.Select(i => InferenceEngine.ArgMax(expected[i])), decided.Select(i => InferenceEngine.ArgMax(actual[i])));
        Assert.True(difference > 0, "bf16 gave bit-identical probabilities: the backbone did not run in bf16.");
    }

    [Fact]
    public void ATaskTrainedInBf16SavesFp32TensorsAndReloadsInBf16ToTheSameScores()
    {
        var (mlContext, model, data) = Fit(ComputePrecision.BFloat16);
        Assert.Equal(ComputePrecision.BFloat16, TinyData.PrefixTuningOf(model).Engine.Base.Precision);
        string path = Path.Combine(TestPaths.NewTempFolder("zip-bf16"), "model.zip");
        mlContext.Model.Save(model, data.Schema, path);

        using (var archive = ZipFile.OpenRead(path))
        {
            var entry = archive.Entries.Single(e => e.FullName.EndsWith("Adapter.safetensors", StringComparison.Ordinal));
            using var stream = new MemoryStream();
            using (var source = entry.Open())
                source.CopyTo(stream);
            stream.Position = 0;
            var tensors = Safetensors.LoadStateDict(stream);
            Assert.NotEmpty(tensors);
            Assert.All(tensors, t => Assert.Equal(torch.ScalarType.Float32, t.Value.dtype));
        }

        var fresh = new MLContext(seed: 3);
        ITransformer loaded = fresh.Model.Load(path, out _);
        Assert.Equal(ComputePrecision.BFloat16, TinyData.PrefixTuningOf(loaded).Engine.Base.Precision);
        Assert.Equal(ComputePrecision.BFloat16, TinyData.PrefixTuningOf(loaded).Trained.Precision);
        float[][] before = TinyData.Scores(model.Transform(data));
        float[][] after = TinyData.Scores(loaded.Transform(TinyData.LoadSingle(fresh, TinyData.Text(perClass: 16, seed: 1))));
        Assert.Equal(0f, TinyData.MaxDifference(before, after));
    }

    [Fact]
    public void FullFineTuningInBf16KeepsFp32MastersAndLearnsTheTask()
    {
        var (_, model, data) = Fit(ComputePrecision.BFloat16, TuningMethod.FullFineTuning);
        var engine = TinyData.PrefixTuningOf(model).Engine;
        Assert.Equal(torch.ScalarType.BFloat16, engine.Model.Backbone.parameters().First().dtype);
        Assert.NotSame(engine.Base.Encoder, engine.Model.Backbone);
        // The trained backbone differs from the frozen one it was cloned from, and the tiny task is learnt.
        using (torch.no_grad())
        {
            var frozen = engine.Base.Encoder.parameters().First();
            var trained = engine.Model.Backbone.parameters().First();
            Assert.True(trained.to_type(torch.ScalarType.Float32).sub(frozen.to_type(torch.ScalarType.Float32)).abs().max().item<float>() > 0);
        }
        var predicted = model.Transform(data).GetColumn<string>("PredictedText").ToArray();
        var labels = data.GetColumn<string>("Label").ToArray();
        double accuracy = predicted.Zip(labels).Count(p => p.First == p.Second) / (double)labels.Length;
        Assert.True(accuracy >= 0.9, $"full fine-tuning in bf16 reached only {accuracy:P0} on its training data");
    }
}
