using Microsoft.ML.PTuning.Modeling;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Tests.Modeling;

/// <summary>Tiny seeded encoders and HF-format checkpoint folders for tests (H=32, L=2, 4 heads, vocab 100).</summary>
public static class TinyEncoders
{
    public static EncoderConfig Roberta() => new()
    {
        ModelType = "roberta",
        SourceModelType = "roberta",
        VocabSize = 100,
        HiddenSize = 32,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        IntermediateSize = 64,
        HiddenAct = "gelu",
        MaxPositionEmbeddings = 40,
        TypeVocabSize = 1,
        LayerNormEps = 1e-5,
        PadTokenId = 1,
        HiddenDropoutProb = 0.1,
        AttentionProbsDropoutProb = 0.1,
    };

    public static EncoderConfig Bert() => Roberta() with
    {
        ModelType = "bert",
        SourceModelType = "bert",
        MaxPositionEmbeddings = 32,
        TypeVocabSize = 2,
        LayerNormEps = 1e-12,
        PadTokenId = 0,
        HiddenAct = "gelu_new",
    };

    /// <summary>
    /// An encoder whose every parameter is seeded noise (LayerNorm weights around 1), so tensors that are swapped or
    /// left at their defaults show up as differences.
    /// </summary>
    public static TransformerEncoder Random(EncoderConfig config, long seed, bool addPoolingLayer = true)
    {
        torch.manual_seed(seed);
        var encoder = new TransformerEncoder(config, addPoolingLayer);
        using (torch.no_grad())
        {
            foreach (var (name, p) in encoder.named_parameters())
            {
                Tensor noise = torch.randn(p.shape) * 0.2;
                if (name.EndsWith("LayerNorm.weight", StringComparison.Ordinal))
                    noise += 1.0;
                p.copy_(noise);
            }
        }
        encoder.eval();
        return encoder;
    }

    /// <summary>Writes config.json and model.safetensors the way HF's save_pretrained lays them out.</summary>
    public static string WriteCheckpoint(string folder, EncoderConfig config, IReadOnlyDictionary<string, Tensor> tensors)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJson());
        using FileStream stream = File.Create(Path.Combine(folder, "model.safetensors"));
        Safetensors.SaveStateDict(stream, tensors.ToDictionary(kv => kv.Key, kv => kv.Value), leaveOpen: true);
        return folder;
    }

    /// <summary>The encoder's tensors under <paramref name="prefix"/> (e.g. "roberta.") — detached copies.</summary>
    public static Dictionary<string, Tensor> StateWithPrefix(TransformerEncoder encoder, string prefix) =>
        encoder.named_parameters().ToDictionary(p => prefix + p.name, p => p.parameter.detach().clone());

    /// <summary>A right-padded batch: ids, mask (int64). Row lengths as given, tokens in [3, vocab).</summary>
    public static (Tensor Ids, Tensor Mask) PaddedBatch(EncoderConfig config, long seed, params int[] lengths)
    {
        var generator = new Random((int)seed);
        int width = lengths.Max();
        var ids = new long[lengths.Length, width];
        var mask = new long[lengths.Length, width];
        for (int r = 0; r < lengths.Length; r++)
        {
            for (int c = 0; c < width; c++)
            {
                bool real = c < lengths[r];
                ids[r, c] = real ? generator.Next(3, config.VocabSize) : config.PadTokenId;
                mask[r, c] = real ? 1 : 0;
            }
        }
        return (torch.tensor(ids), torch.tensor(mask));
    }

    public static double MaxAbsDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();
}
