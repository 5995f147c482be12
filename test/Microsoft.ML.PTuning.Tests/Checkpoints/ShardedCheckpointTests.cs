using System.Text.Json.Nodes;
using Microsoft.ML.PTuning.Checkpoints;
using Microsoft.ML.PTuning.Persistence;
using Microsoft.ML.PTuning.Runtime;
using Microsoft.ML.PTuning.Tests.Pipeline;
using TorchSharp.PyBridge;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Tests.Checkpoints;

/// <summary>
/// Sharded Hugging Face checkpoints (what <c>save_pretrained</c> writes above its shard size): an index whose
/// <c>weight_map</c> names the shard of each tensor. The tests shard a tiny base model themselves, so the sharded and the
/// unsharded folder hold the same tensors.
/// </summary>
[Collection(PipelineCollection.Name)]
public class ShardedCheckpointTests
{
    /// <summary>
    /// A copy of <paramref name="folder"/> whose model.safetensors is split into <paramref name="shards"/> files of
    /// <paramref name="kind"/> ("safetensors" or "bin"), tensors dealt round-robin in name order, with their index.
    /// </summary>
    internal static string Shard(string folder, int shards = 2, string kind = "safetensors")
    {
        string copy = TinyBaseModel.Copy(folder);
        string single = Path.Combine(copy, "model.safetensors");
        var tensors = SafeTensorsReader.Read(single);
        File.Delete(single);
        string Name(int i) => kind == "bin" ? $"pytorch_model-{i + 1:D5}-of-{shards:D5}.bin" : $"model-{i + 1:D5}-of-{shards:D5}.safetensors";
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToArray();
        var map = new JsonObject();
        for (int s = 0; s < shards; s++)
        {
            var part = names.Where((_, i) => i % shards == s).ToDictionary(n => n, n => tensors[n]);
            foreach (string name in part.Keys)
                map[name] = Name(s);
            string path = Path.Combine(copy, Name(s));
            if (kind == "bin")
            {
                PyTorchPickler.PickleStateDict(path, part);
            }
            else
            {
                using var stream = File.Create(path);
                Safetensors.SaveStateDict(stream, part, leaveOpen: true);
            }
        }
        WriteIndex(copy, kind, map);
        foreach (var tensor in tensors.Values)
            tensor.Dispose();
        return copy;
    }

    private static string IndexName(string kind) =>
        kind == "bin" ? ShardedCheckpointIndex.PickleIndexName : ShardedCheckpointIndex.SafeTensorsIndexName;

    private static void WriteIndex(string folder, string kind, JsonObject map) =>
        File.WriteAllText(Path.Combine(folder, IndexName(kind)),
            new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = 0 }, ["weight_map"] = map.DeepClone() }.ToJsonString());

    private static JsonObject ReadMap(string folder, string kind = "safetensors") =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(folder, IndexName(kind))))!["weight_map"]!.AsObject();

    [Theory]
    [InlineData("safetensors", 2)]
    [InlineData("safetensors", 3)]
    [InlineData("bin", 2)]
    public void AShardedCheckpointHoldsTheSameTensorsAsTheUnshardedOne(string kind, int shards)
    {
        string single = TinyBaseModel.Get();
        string sharded = Shard(single, shards, kind);
        using var expected = HuggingFaceCheckpoint.Load(single);
        using var actual = HuggingFaceCheckpoint.Load(sharded);

        Assert.Equal(expected.Config, actual.Config);
        Assert.Equal(expected.Tensors.Keys.Order(), actual.Tensors.Keys.Order());
        foreach (var (name, tensor) in expected.Tensors)
            Assert.True(tensor.eq(actual.Tensors[name]).all().item<bool>(), $"{name} differs");
        Assert.Equal(Path.Combine(sharded, IndexName(kind)), actual.WeightsPath);
        Assert.Equal(HuggingFaceCheckpoint.ShardedDigest(ShardedCheckpointIndex.Read(actual.WeightsPath)), actual.WeightsSha256);

        // The same encoder either way: same function on the same batch.
        using var scope = NewDisposeScope();
        using var a = expected.CreateEncoder();
        using var b = actual.CreateEncoder();
        a.eval();
        b.eval();
        var (ids, mask) = Modeling.TinyEncoders.PaddedBatch(expected.Config, seed: 3, 5, 2);
        Assert.Equal(0.0, Modeling.TinyEncoders.MaxAbsDiff(a.forward(ids, mask, null, null, null), b.forward(ids, mask, null, null, null)));
    }

    [Fact]
    public void TheBaseIdentityAndWeightDigestCoverEveryShard()
    {
        string sharded = Shard(TinyBaseModel.Create("roberta", seed: 41), shards: 2);
        var identity = BaseModel.IdentityOf(sharded, "roberta").Select(f => f.Name).ToArray();
        Assert.Equal(["config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
            "vocab.json", "merges.txt", "tokenizer_config.json"], identity);

        var before = BaseModel.Load(sharded, CPU, null);
        Assert.Equal(identity, before.IdentityFiles.Select(f => f.Name));

        // Rewrite one shard with other values of the same shapes: the digest and the identity change, and the cache notices.
        string shard = Path.Combine(sharded, "model-00002-of-00002.safetensors");
        var tensors = SafeTensorsReader.Read(shard);
        var changed = tensors.ToDictionary(p => p.Key, p => p.Value.add(1));
        using (var stream = File.Create(shard))
            Safetensors.SaveStateDict(stream, changed, leaveOpen: true);
        var after = BaseModel.Load(sharded, CPU, null);
        Assert.NotSame(before, after);
        Assert.NotEqual(before.WeightsSha256, after.WeightsSha256);
        Assert.Equal("model-00002-of-00002.safetensors", BaseModelLocator.Difference(before.IdentityFiles, after.IdentityFiles)!.Split(' ')[0]);
        foreach (var tensor in tensors.Values.Concat(changed.Values))
            tensor.Dispose();
    }

    [Theory]
    [InlineData("../model-00001-of-00002.safetensors")]
    [InlineData("/tmp/model-00001-of-00002.safetensors")]
    [InlineData("sub/model-00001-of-00002.safetensors")]
    [InlineData("sub\\model-00001-of-00002.safetensors")]
    [InlineData(".model-00001-of-00002.safetensors")]
    [InlineData("model-00001-of-00002.bin")]
    [InlineData("model.safetensors")]
    [InlineData("")]
    public void AnIndexNamingAnythingButAPlainShardOfItsFolderIsRefused(string shardName)
    {
        string sharded = Shard(TinyBaseModel.Get(), shards: 2);
        var map = ReadMap(sharded);
        map[map.First().Key] = shardName;
        WriteIndex(sharded, "safetensors", map);
        var error = Assert.Throws<InvalidDataException>(() => HuggingFaceCheckpoint.Load(sharded));
        Assert.Contains(ShardedCheckpointIndex.SafeTensorsIndexName, error.Message);
        Assert.Contains("plain .safetensors file name", error.Message);
        // Nothing it names is part of the identity either.
        Assert.DoesNotContain(BaseModel.IdentityOf(sharded, "roberta"), f => f.Name == shardName);
    }

    [Fact]
    public void AShardThatDisagreesWithTheIndexIsRefusedNamingTheShardAndTensor()
    {
        // A tensor mapped to the other shard than the one holding it.
        string moved = Shard(TinyBaseModel.Get(), shards: 2);
        var map = ReadMap(moved);
        string tensor = map.First(p => p.Value!.GetValue<string>() == "model-00001-of-00002.safetensors").Key;
        map[tensor] = "model-00002-of-00002.safetensors";
        WriteIndex(moved, "safetensors", map);
        var error = Assert.Throws<InvalidDataException>(() => HuggingFaceCheckpoint.Load(moved));
        Assert.Contains("model-00001-of-00002.safetensors", error.Message);
        Assert.Contains(tensor, error.Message);

        // A tensor the index does not map at all.
        string unmapped = Shard(TinyBaseModel.Get(), shards: 2);
        map = ReadMap(unmapped);
        map.Remove(tensor);
        WriteIndex(unmapped, "safetensors", map);
        error = Assert.Throws<InvalidDataException>(() => HuggingFaceCheckpoint.Load(unmapped));
        Assert.Contains($"'{tensor}', which the index maps to no shard", error.Message);

        // A shard that is missing.
        string missing = Shard(TinyBaseModel.Get(), shards: 2);
        File.Delete(Path.Combine(missing, "model-00002-of-00002.safetensors"));
        var notFound = Assert.Throws<FileNotFoundException>(() => HuggingFaceCheckpoint.Load(missing));
        Assert.Contains("model-00002-of-00002.safetensors", notFound.Message);

        // A shard that is not a well-formed safetensors file: the single-file reader's own error, naming the shard.
        string damaged = Shard(TinyBaseModel.Get(), shards: 2);
        File.WriteAllText(Path.Combine(damaged, "model-00001-of-00002.safetensors"), "not safetensors");
        error = Assert.Throws<InvalidDataException>(() => HuggingFaceCheckpoint.Load(damaged));
        Assert.Contains("model-00001-of-00002.safetensors", error.Message);
    }

    [Fact]
    public void AModelTrainedOnAShardedBaseSavesAndLoadsWithAndWithoutTheEmbeddedBase()
    {
        using var cache = new Persistence.TrustFolders();
        string sharded = Shard(TinyBaseModel.Create("roberta", seed: 43), shards: 3);
        var (mlContext, model, data) = ModelZipTests.FitOwnBase(sharded, embed: true);
        float[][] expected = TinyData.Scores(model.Transform(data));
        string embedded = cache.SaveZip(mlContext, model, data, "embedded.zip");
        var (_, referenced, _) = ModelZipTests.FitOwnBase(sharded, embed: false);
        string plain = cache.SaveZip(mlContext, referenced, data, "plain.zip");
        float[][] expectedPlain = TinyData.Scores(referenced.Transform(data));

        // The zip that references its base finds the folder by the index's digest and every shard's.
        Assert.Equal(0f, TinyData.MaxDifference(expectedPlain, TinyData.Scores(new MLContext().Model.Load(plain, out _).Transform(data))));

        Directory.Delete(sharded, recursive: true);
        ITransformer loaded = new MLContext().Model.Load(embedded, out _);
        Assert.Equal(0f, TinyData.MaxDifference(expected, TinyData.Scores(loaded.Transform(data))));
        string extracted = Assert.Single(Directory.GetDirectories(cache.Cache));
        Assert.Equal(["config.json", "merges.txt", "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
            "model-00003-of-00003.safetensors", "model.safetensors.index.json", "tokenizer_config.json", "vocab.json"],
            Directory.GetFiles(extracted).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("../model-00001-of-00002.safetensors", true)]
    [InlineData("model-00001-of-00002.safetensors", false)]
    public void AZipHeaderListsShardsOnlyByPlainNameAndBesideAnIndex(string shard, bool withIndex)
    {
        var files = new List<BaseModelFile> { new("config.json", 1, new string('a', 64)) };
        files.Add(withIndex ? new(ShardedCheckpointIndex.SafeTensorsIndexName, 1, new string('b', 64)) : new("model.safetensors", 1, new string('b', 64)));
        files.Add(new(shard, 1, new string('c', 64)));
        var header = new ModelZipHeader(TaskKind.SequenceClassification, TuningMethod.PrefixTuning, 4, 32, 2, null,
            new TaskColumns("Sentence1", null, "Label", "PredictedLabel", "Score"), Path.GetFullPath("/base"), false, files, 1, new string('d', 64));
        var error = Assert.Throws<FormatException>(() => ModelZipHeader.Parse(header.ToBytes()));
        Assert.Contains(withIndex ? "plain shard name" : "no shard index", error.Message);

        // The same header with a plain shard beside an index parses.
        files[1] = new(ShardedCheckpointIndex.SafeTensorsIndexName, 1, new string('b', 64));
        files[2] = new("model-00001-of-00002.safetensors", 1, new string('c', 64));
        Assert.Equal(3, ModelZipHeader.Parse((header with { BaseFiles = files }).ToBytes()).BaseFiles.Count);
    }
}
