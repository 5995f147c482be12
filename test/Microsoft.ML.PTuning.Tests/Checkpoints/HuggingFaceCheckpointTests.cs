using System.Security.Cryptography;
using Microsoft.ML.PTuning.Checkpoints;
using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Tests.Modeling;
using TorchSharp;
using TorchSharp.PyBridge;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Tests.Checkpoints;

public class HuggingFaceCheckpointTests
{
    private static void AssertSameWeights(TransformerEncoder expected, TransformerEncoder actual)
    {
        var source = expected.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in actual.named_parameters())
            Assert.True(p.eq(source[name]).all().item<bool>(), $"{name} differs");
    }

    // Writes a tiny RoBERTa checkpoint, edited, and returns the error loading it into an encoder gives.
    private static InvalidDataException LoadingFails(Action<Dictionary<string, Tensor>> edit)
    {
        EncoderConfig config = TinyEncoders.Roberta();
        using var source = TinyEncoders.Random(config, seed: 64);
        var tensors = TinyEncoders.StateWithPrefix(source, "roberta.");
        edit(tensors);
        string folder = TinyEncoders.WriteCheckpoint(TestPaths.NewTempFolder("ckpt"), config, tensors);
        using HuggingFaceCheckpoint checkpoint = HuggingFaceCheckpoint.Load(folder);
        return Assert.Throws<InvalidDataException>(() => checkpoint.CreateEncoder());
    }

    [Fact]
    public void RobertaTaskCheckpointWithPrefixLoadsByNameAndReportsWhatItIgnored()
    {
        EncoderConfig config = TinyEncoders.Roberta();
        using var source = TinyEncoders.Random(config, seed: 60);
        var tensors = TinyEncoders.StateWithPrefix(source, "roberta.");
        tensors["lm_head.dense.weight"] = torch.zeros(32, 32);
        tensors["lm_head.bias"] = torch.zeros(100);
        string folder = TinyEncoders.WriteCheckpoint(TestPaths.NewTempFolder("ckpt"), config, tensors);

        using HuggingFaceCheckpoint checkpoint = HuggingFaceCheckpoint.Load(folder);
        Assert.Equal(config, checkpoint.Config);
        Assert.Equal(Path.Combine(folder, "model.safetensors"), checkpoint.WeightsPath);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(checkpoint.WeightsPath))), checkpoint.WeightsSha256);
        Assert.Equal(tensors.Count, checkpoint.Tensors.Count);
        Assert.Contains("roberta.encoder.layer.1.attention.self.key.bias", checkpoint.Tensors.Keys);

        var log = new List<string>();
        using var encoder = checkpoint.CreateEncoder(log.Add);
        AssertSameWeights(source, encoder);
        string ignored = Assert.Single(log);
        Assert.Contains("lm_head.bias", ignored);
        Assert.Contains("lm_head.dense.weight", ignored);

        // Same weights, same function.
        using var scope = torch.NewDisposeScope();
        var (ids, mask) = TinyEncoders.PaddedBatch(config, seed: 61, 5, 3);
        encoder.eval();
        using (torch.no_grad())
            Assert.Equal(0.0, TinyEncoders.MaxAbsDiff(source.forward(ids, mask, null, null, null), encoder.forward(ids, mask, null, null, null)));
    }

    [Fact]
    public void BareBertCheckpointWithoutPoolerLoadsAndSaysThePoolerIsFresh()
    {
        EncoderConfig config = TinyEncoders.Bert();
        using var source = TinyEncoders.Random(config, seed: 62, addPoolingLayer: false);
        var tensors = TinyEncoders.StateWithPrefix(source, "");
        tensors["embeddings.position_ids"] = torch.arange(32L).unsqueeze(0);   // old HF buffer
        string folder = TinyEncoders.WriteCheckpoint(TestPaths.NewTempFolder("ckpt"), config, tensors);

        using HuggingFaceCheckpoint checkpoint = HuggingFaceCheckpoint.Load(folder);
        var log = new List<string>();
        using var encoder = checkpoint.CreateEncoder(log.Add);
        Assert.True(encoder.HasPooler);   // BERT's classification head needs one
        Assert.Contains(log, m => m.Contains("pooler.dense.weight") && m.Contains("random initialisation"));
        Assert.Contains(log, m => m.Contains("embeddings.position_ids"));
        var loaded = encoder.named_parameters().Where(p => !p.name.StartsWith("pooler.")).ToList();
        var expected = source.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.All(loaded, p => Assert.True(p.parameter.eq(expected[p.name]).all().item<bool>(), p.name));
    }

    [Fact]
    public void SafetensorsHeaderAsHfWritesItWithMetadataAndPaddingLoads()
    {
        EncoderConfig config = TinyEncoders.Roberta();
        using var source = TinyEncoders.Random(config, seed: 66);
        var tensors = TinyEncoders.StateWithPrefix(source, "");
        string folder = TestPaths.NewTempFolder("ckpt");
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJson());

        // The safetensors layout the Python library writes: __metadata__ first, header padded with spaces to 8 bytes.
        var header = new System.Text.StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        foreach (var (name, t) in tensors)
        {
            long bytes = t.NumberOfElements * 4;
            header.Append($",\"{name}\":{{\"dtype\":\"F32\",\"shape\":[{string.Join(",", t.shape)}],\"data_offsets\":[{offset},{offset + bytes}]}}");
            offset += bytes;
        }
        header.Append('}');
        while (header.Length % 8 != 0)
            header.Append(' ');
        using (var writer = new BinaryWriter(File.Create(Path.Combine(folder, "model.safetensors"))))
        {
            writer.Write((ulong)header.Length);
            writer.Write(System.Text.Encoding.ASCII.GetBytes(header.ToString()));
            foreach (var t in tensors.Values)
                writer.Write(t.bytes);
        }

        using HuggingFaceCheckpoint checkpoint = HuggingFaceCheckpoint.Load(folder);
        Assert.Equal(tensors.Count, checkpoint.Tensors.Count);
        using var encoder = checkpoint.CreateEncoder();
        AssertSameWeights(source, encoder);
    }

    [Fact]
    public void PytorchBinAndOldLayerNormNamesLoad()
    {
        EncoderConfig config = TinyEncoders.Bert();
        using var source = TinyEncoders.Random(config, seed: 63);
        var tensors = TinyEncoders.StateWithPrefix(source, "bert.")
            .ToDictionary(kv => kv.Key.Replace("LayerNorm.weight", "LayerNorm.gamma").Replace("LayerNorm.bias", "LayerNorm.beta"), kv => kv.Value);
        string folder = TestPaths.NewTempFolder("ckpt");
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJson());
        PyTorchPickler.PickleStateDict(Path.Combine(folder, "pytorch_model.bin"), tensors);

        using HuggingFaceCheckpoint checkpoint = HuggingFaceCheckpoint.Load(folder);
        Assert.EndsWith("pytorch_model.bin", checkpoint.WeightsPath);
        using var encoder = new TransformerEncoder(config);
        checkpoint.LoadInto(encoder);
        AssertSameWeights(source, encoder);
    }

    [Fact]
    public void MissingFilesAreNamedWithWhatWasLookedFor()
    {
        string folder = TestPaths.NewTempFolder("ckpt");
        var e = Assert.Throws<FileNotFoundException>(() => HuggingFaceCheckpoint.Load(folder));
        Assert.Contains("config.json", e.Message);

        File.WriteAllText(Path.Combine(folder, "config.json"), TinyEncoders.Roberta().ToJson());
        e = Assert.Throws<FileNotFoundException>(() => HuggingFaceCheckpoint.Load(folder));
        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains("pytorch_model.bin", e.Message);
        Assert.Contains(folder, e.Message);

        Assert.Throws<DirectoryNotFoundException>(() => HuggingFaceCheckpoint.Load(Path.Combine(folder, "nope")));
    }

    [Fact]
    public void UnknownModelTypeNamesTheConfigFile()
    {
        string folder = TestPaths.NewTempFolder("ckpt");
        File.WriteAllText(Path.Combine(folder, "config.json"), """{"model_type": "gpt2", "n_embd": 32}""");
        var e = Assert.Throws<InvalidDataException>(() => HuggingFaceCheckpoint.Load(folder));
        Assert.Contains(Path.Combine(folder, "config.json"), e.Message);
        Assert.Contains("gpt2", e.Message);
    }

    [Fact]
    public void ShapeMismatchNamesTheTensorAndBothShapes()
    {
        var e = LoadingFails(tensors => tensors["roberta.encoder.layer.1.intermediate.dense.weight"] = torch.zeros(48, 32));
        Assert.Contains("roberta.encoder.layer.1.intermediate.dense.weight", e.Message);
        Assert.Contains("[48, 32]", e.Message);
        Assert.Contains("[64, 32]", e.Message);
    }

    [Fact]
    public void MissingTensorsAreAllListed()
    {
        var e = LoadingFails(tensors =>
        {
            tensors.Remove("roberta.embeddings.LayerNorm.bias");
            tensors.Remove("roberta.encoder.layer.0.attention.self.value.weight");
            tensors.Remove("roberta.encoder.layer.1.output.dense.bias");
        });
        Assert.Contains("3 tensor(s)", e.Message);
        Assert.Contains("roberta.embeddings.LayerNorm.bias", e.Message);
        Assert.Contains("roberta.encoder.layer.0.attention.self.value.weight", e.Message);
        Assert.Contains("roberta.encoder.layer.1.output.dense.bias", e.Message);
        Assert.Contains("model.safetensors", e.Message);
    }
}
