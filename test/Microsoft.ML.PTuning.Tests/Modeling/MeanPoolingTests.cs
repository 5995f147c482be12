using Microsoft.ML.PTuning.Modeling;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Tests.Modeling;

/// <summary>Mean pooling: the head averages the real tokens' final states, leaving padding and the prefix out.</summary>
public class MeanPoolingTests
{
    [Theory]
    [InlineData("bert", TuningMethod.PrefixTuning)]
    [InlineData("roberta", TuningMethod.PrefixTuning)]
    [InlineData("bert", TuningMethod.PromptTuning)]
    [InlineData("roberta", TuningMethod.LinearProbe)]
    public void LogitsEqualAHandComputedMaskedMeanThroughTheClassifier(string family, TuningMethod method)
    {
        EncoderConfig config = family == "roberta" ? TinyEncoders.Roberta() : TinyEncoders.Bert();
        using var backbone = TinyEncoders.Random(config, seed: 40);
        torch.manual_seed(41);
        using var model = new PrefixTunedModel(backbone, TaskKind.SequenceClassification, 3, method, prefixLength: 3, pooling: PoolingMode.Mean);
        Assert.IsType<MeanPoolingClassificationHead>(model.Head);
        model.eval();
        using var scope = torch.NewDisposeScope();
        var (ids, mask) = TinyEncoders.PaddedBatch(config, seed: 42, 5, 2, 4);

        Tensor logits = model.forward(ids, mask, null);

        // By hand: the encoder's states of the real tokens (the prompt's positions cut off), averaged with loops.
        Tensor hidden = backbone.forward(ids, mask, null, model.Prefix?.forward(3), model.Prompt?.forward(3));
        if (method == TuningMethod.PromptTuning)
            hidden = hidden.narrow(1, 3, ids.shape[1]);
        var parameters = model.Head.HuggingFaceParameters().ToDictionary(p => p.Name, p => p.Parameter);
        float[,] weight = ToMatrix(parameters["classifier.weight"]);
        float[] bias = parameters["classifier.bias"].data<float>().ToArray();
        long[] maskValues = mask.data<long>().ToArray();
        int rows = (int)ids.shape[0], width = (int)ids.shape[1], size = config.HiddenSize;
        float[] states = hidden.contiguous().data<float>().ToArray();
        for (int r = 0; r < rows; r++)
        {
            var mean = new double[size];
            int real = 0;
            for (int t = 0; t < width; t++)
            {
                if (maskValues[(r * width) + t] == 0)
                    continue;
                real++;
                for (int h = 0; h < size; h++)
                    mean[h] += states[(((r * width) + t) * size) + h];
            }
            for (int c = 0; c < 3; c++)
            {
                double expected = bias[c];
                for (int h = 0; h < size; h++)
                    expected += weight[c, h] * mean[h] / real;
                Assert.Equal(expected, logits[r, c].item<float>(), 4);
            }
        }
    }

    [Fact]
    public void PaddingDoesNotChangeARowsLogits()
    {
        EncoderConfig config = TinyEncoders.Bert();
        using var backbone = TinyEncoders.Random(config, seed: 43);
        using var model = new PrefixTunedModel(backbone, TaskKind.SequenceClassification, 2, TuningMethod.PrefixTuning, prefixLength: 2, pooling: PoolingMode.Mean);
        model.eval();
        using var scope = torch.NewDisposeScope();
        var (ids, mask) = TinyEncoders.PaddedBatch(config, seed: 44, 3, 6);

        Tensor together = model.forward(ids, mask, null);
        Tensor alone = model.forward(ids.narrow(0, 0, 1).narrow(1, 0, 3), mask.narrow(0, 0, 1).narrow(1, 0, 3), null);

        Assert.True(TinyEncoders.MaxAbsDiff(together.narrow(0, 0, 1), alone) < 1e-5);
    }

    [Fact]
    public void ClsPoolingKeepsHuggingFacesHeads()
    {
        using var bert = TinyEncoders.Random(TinyEncoders.Bert(), seed: 45);
        using var roberta = TinyEncoders.Random(TinyEncoders.Roberta(), seed: 45);
        using var bertModel = new PrefixTunedModel(bert, TaskKind.SequenceClassification, 2, pooling: PoolingMode.Cls);
        using var robertaModel = new PrefixTunedModel(roberta, TaskKind.SequenceClassification, 2, pooling: PoolingMode.Cls);
        Assert.IsType<BertSequenceClassificationHead>(bertModel.Head);
        Assert.IsType<RobertaClassificationHead>(robertaModel.Head);
        Assert.Throws<ArgumentOutOfRangeException>(() => new PrefixTunedModel(bert, TaskKind.SequenceClassification, 2, pooling: PoolingMode.Auto));
    }

    private static float[,] ToMatrix(Tensor tensor)
    {
        float[] values = tensor.detach().contiguous().data<float>().ToArray();
        int rows = (int)tensor.shape[0], columns = (int)tensor.shape[1];
        var matrix = new float[rows, columns];
        for (int i = 0; i < values.Length; i++)
            matrix[i / columns, i % columns] = values[i];
        return matrix;
    }
}
