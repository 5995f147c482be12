using Microsoft.ML.PTuning.Checkpoints;
using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Tests.Modeling;
using Microsoft.ML.PTuning.Tests.Pipeline;
using Microsoft.ML.PTuning.Tokenization;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Tests.Prompting;

public class MaskedLanguageModelHeadTests
{
    [Theory]
    [InlineData("roberta", false)]
    [InlineData("bert", false)]
    [InlineData("roberta", true)]
    [InlineData("bert", true)]
    public void LogitsAtTheMaskEqualAHandComputationWithTiedWeights(string modelType, bool biasAsDecoderBias)
    {
        string folder = TinyMaskedLanguageModel.Create(modelType, seed: 5, biasAsDecoderBias);
        using var checkpoint = HuggingFaceCheckpoint.Load(folder);
        using var encoder = checkpoint.CreateEncoder();
        using var head = checkpoint.CreateMaskedLanguageModelHead(encoder);
        Assert.NotNull(head);
        head.eval();
        var tokenizer = EncoderTokenizer.FromFolder(folder, modelType);
        var encoded = tokenizer.Encode($"the dog is {tokenizer.MaskToken} .", null, 32);
        int mask = Array.IndexOf(encoded.InputIds, tokenizer.MaskTokenId);
        Assert.True(mask > 0);

        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        Tensor ids = torch.tensor(encoded.InputIds.Select(i => (long)i).ToArray()).unsqueeze(0);
        Tensor hidden = encoder.forward(ids, torch.ones_like(ids), null, null, null)[0, mask];

        // By hand from the file's tensors: dense, activation, LayerNorm, then the word embeddings (tied decoder) and bias.
        bool roberta = modelType == "roberta";
        string prefix = roberta ? "roberta." : "bert.";
        Tensor T(string name) => checkpoint.Tensors[name];
        string N(string name) => MaskedLanguageModelHead.HuggingFaceName(name, roberta);
        Tensor x = torch.matmul(T(N("dense.weight")), hidden) + T(N("dense.bias"));
        x = roberta
            ? 0.5 * x * (1.0 + torch.special.erf(x / Math.Sqrt(2)))
            : 0.5 * x * (1.0 + torch.tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x.pow(3))));
        Tensor mean = x.mean([0L]);
        Tensor variance = (x - mean).pow(2).mean([0L]);
        double eps = encoder.Config.LayerNormEps;
        x = (x - mean) / (variance + eps).sqrt() * T(N("layer_norm.weight")) + T(N("layer_norm.bias"));
        Tensor bias = biasAsDecoderBias ? T(MaskedLanguageModelHead.DecoderBiasName(roberta)) : T(N("bias"));
        Tensor expected = torch.matmul(T(prefix + "embeddings.word_embeddings.weight"), x) + bias;

        Tensor logits = head.forward(hidden.unsqueeze(0))[0];
        Assert.Equal(encoder.Config.VocabSize, logits.shape[0]);
        Assert.True(TinyEncoders.MaxAbsDiff(logits, expected) < 1e-4, $"max difference {TinyEncoders.MaxAbsDiff(logits, expected)}");

        long[] some = [tokenizer.MaskTokenId, 7, 3, encoder.Config.VocabSize - 1];
        Tensor subset = head.Logits(hidden.unsqueeze(0), torch.tensor(some))[0];
        Assert.True(TinyEncoders.MaxAbsDiff(subset, expected.index_select(0, torch.tensor(some))) < 1e-4);
        // The logits move with the word embeddings: the decoder is tied, not a copy.
        Assert.True(expected.std().item<float>() > 0.1);
    }

    [Fact]
    public void ABareEncoderHasNoHead()
    {
        using var checkpoint = HuggingFaceCheckpoint.Load(TinyBaseModel.Get("roberta"));
        using var encoder = checkpoint.CreateEncoder();
        Assert.Null(checkpoint.CreateMaskedLanguageModelHead(encoder));
    }

    [Fact]
    public void PartOfAHeadIsRefusedNamingWhatIsMissing()
    {
        string folder = TinyMaskedLanguageModel.Create("bert", seed: 6);
        var config = EncoderConfig.Load(Path.Combine(folder, "config.json"));
        var tensors = SafeTensorsReader.Read(Path.Combine(folder, "model.safetensors"));
        tensors.Remove("cls.predictions.transform.LayerNorm.weight");
        TinyEncoders.WriteCheckpoint(folder, config, tensors);
        using var checkpoint = HuggingFaceCheckpoint.Load(folder);
        using var encoder = checkpoint.CreateEncoder();
        var error = Assert.Throws<InvalidDataException>(() => checkpoint.CreateMaskedLanguageModelHead(encoder));
        Assert.Contains("cls.predictions.transform.LayerNorm.weight", error.Message);
    }
}
