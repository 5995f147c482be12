using System.Collections.Concurrent;
using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Tests.Modeling;
using Microsoft.ML.PTuning.Tests.Pipeline;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Tests.Prompting;

/// <summary>
/// Tiny masked-language-model folders in Hugging Face's <c>RobertaForMaskedLM</c> / <c>BertForMaskedLM</c> layout: the
/// tiny base of <see cref="TinyBaseModel"/> with its encoder under <c>roberta.</c> / <c>bert.</c> and a seeded random head
/// (<c>lm_head.*</c> / <c>cls.predictions.*</c>), the decoder tied (not written), as <c>save_pretrained</c> writes it.
/// </summary>
public static class TinyMaskedLanguageModel
{
    private static readonly ConcurrentDictionary<string, Lazy<string>> Shared = new(StringComparer.Ordinal);

    /// <summary>The folder of this test run for <paramref name="modelType"/>, written once.</summary>
    public static string Get(string modelType = "roberta") =>
        Shared.GetOrAdd(modelType, type => new Lazy<string>(() => Create(type, seed: 3))).Value;

    /// <summary>A new folder with encoder and head from <paramref name="seed"/>; <paramref name="biasAsDecoderBias"/> stores the bias under the tied <c>decoder.bias</c> name.</summary>
    public static string Create(string modelType, int seed, bool biasAsDecoderBias = false)
    {
        string folder = TinyBaseModel.Create(modelType, seed);
        EncoderConfig config = EncoderConfig.Load(Path.Combine(folder, "config.json"));
        bool roberta = modelType == "roberta";
        using var encoder = TinyEncoders.Random(config, seed, addPoolingLayer: false);
        var tensors = TinyEncoders.StateWithPrefix(encoder, roberta ? "roberta." : "bert.");
        foreach (var (name, tensor) in HeadTensors(config, seed + 1000))
        {
            string key = MaskedLanguageModelHead.HuggingFaceName(name, roberta);
            if (name == "bias" && biasAsDecoderBias)
                key = MaskedLanguageModelHead.DecoderBiasName(roberta);
            tensors[key] = tensor;
        }
        TinyEncoders.WriteCheckpoint(folder, config, tensors);
        foreach (var tensor in tensors.Values)
            tensor.Dispose();
        return folder;
    }

    /// <summary>Seeded head tensors under the head's own parameter names (dense.*, layer_norm.*, bias).</summary>
    public static Dictionary<string, Tensor> HeadTensors(EncoderConfig config, long seed)
    {
        torch.manual_seed(seed);
        int h = config.HiddenSize;
        return new Dictionary<string, Tensor>
        {
            ["dense.weight"] = torch.randn(h, h) * 0.3,
            ["dense.bias"] = torch.randn(h) * 0.1,
            ["layer_norm.weight"] = torch.randn(h) * 0.2 + 1.0,
            ["layer_norm.bias"] = torch.randn(h) * 0.1,
            ["bias"] = torch.randn(config.VocabSize) * 0.5,
        };
    }
}
