using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Tests.Modeling;

namespace Microsoft.ML.PTuning.Tests.Pipeline;

/// <summary>
/// Tiny Hugging Face base-model folders for pipeline tests: the tokenizer fixtures of test/fixtures/hf/tokenizers and a
/// seeded random encoder (H=32, 2 layers, 4 heads, FFN 64) whose vocabulary is the tokenizer's.
/// </summary>
public static class TinyBaseModel
{
    private static readonly ConcurrentDictionary<string, Lazy<string>> Shared = new(StringComparer.Ordinal);

    /// <summary>The folder of this test run for <paramref name="modelType"/> ("roberta" or "bert"), written once.</summary>
    public static string Get(string modelType = "roberta") =>
        Shared.GetOrAdd(modelType, type => new Lazy<string>(() => Create(type, seed: 1))).Value;

    /// <summary>
    /// A new folder of its own (for tests that change, move or delete it), weights from <paramref name="seed"/>; a small
    /// <paramref name="maxPositionEmbeddings"/> lets a test make long prefixes crowd out tokens.
    /// </summary>
    public static string Create(string modelType, int seed, int? maxPositionEmbeddings = null)
    {
        string folder = TestPaths.NewTempFolder($"base-{modelType}");
        string tokenizer = Path.Combine(TestPaths.RepoRoot, "test", "fixtures", "hf", "tokenizers", modelType);
        string[] files = modelType switch
        {
            "roberta" => ["vocab.json", "merges.txt", "tokenizer_config.json"],
            "bert" => ["vocab.txt", "tokenizer_config.json"],
            _ => throw new ArgumentException($"unknown model type '{modelType}'", nameof(modelType)),
        };
        foreach (string file in files)
            File.Copy(Path.Combine(tokenizer, file), Path.Combine(folder, file));

        EncoderConfig config = Config(modelType, VocabularySize(folder, modelType));
        if (maxPositionEmbeddings is int positions)
            config = config with { MaxPositionEmbeddings = positions };
        using var encoder = TinyEncoders.Random(config, seed);
        var tensors = TinyEncoders.StateWithPrefix(encoder, "");
        TinyEncoders.WriteCheckpoint(folder, config, tensors);
        foreach (var tensor in tensors.Values)
            tensor.Dispose();
        return folder;
    }

    /// <summary>Replaces the folder's weights by those of another seed (same shapes, different SHA-256).</summary>
    public static void OverwriteWeights(string folder, int seed)
    {
        EncoderConfig config = EncoderConfig.Load(Path.Combine(folder, "config.json"));
        using var encoder = TinyEncoders.Random(config, seed);
        var tensors = TinyEncoders.StateWithPrefix(encoder, "");
        TinyEncoders.WriteCheckpoint(folder, config, tensors);
        foreach (var tensor in tensors.Values)
            tensor.Dispose();
    }

    /// <summary>A copy of <paramref name="folder"/> in a new temp folder.</summary>
    public static string Copy(string folder)
    {
        string copy = TestPaths.NewTempFolder("base-copy");
        foreach (string file in Directory.GetFiles(folder))
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        return copy;
    }

    /// <summary>The bytes of the folder's weight file.</summary>
    public static long WeightBytes(string folder) => new FileInfo(Path.Combine(folder, "model.safetensors")).Length;

    private static EncoderConfig Config(string modelType, int vocabSize)
    {
        var tiny = modelType == "bert" ? TinyEncoders.Bert() : TinyEncoders.Roberta();
        return tiny with
        {
            VocabSize = vocabSize,
            MaxPositionEmbeddings = modelType == "bert" ? 64 : 66,
        };
    }

    private static int VocabularySize(string folder, string modelType)
    {
        if (modelType == "bert")
            return File.ReadAllLines(Path.Combine(folder, "vocab.txt")).Count(line => line.Length > 0);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "vocab.json")));
        return json.RootElement.EnumerateObject().Max(p => p.Value.GetInt32()) + 1;
    }
}
