using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.ML.PTuning.Persistence;
using Microsoft.ML.PTuning.Tests.Pipeline;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Persistence;

/// <summary>
/// The trust cases of a model zip by name: crafted names and digests never become paths, a base that differs in any
/// file is refused naming the file, the embedded-base cache is per identity, owner-only and verified, and an embedded
/// base carries only the files the model reads.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class ModelZipTrustTests(TrainedModels models) : IDisposable
{
    private readonly TrustFolders _folders = new();

    public void Dispose() => _folders.Dispose();

    private static Exception LoadError(string path) =>
        Cause(Assert.ThrowsAny<Exception>(() => new MLContext().Model.Load(path, out _)));

    // ML.NET wraps what a loader throws in TargetInvocationException and "Error during class instantiation".
    private static Exception Cause(Exception e)
    {
        var cause = TinyData.Innermost(e);
        while (cause is InvalidOperationException { InnerException: { } inner })
            cause = TinyData.Innermost(inner);
        return cause;
    }

    private string Write(byte[] zip, string name)
    {
        string path = Path.Combine(_folders.Zips, name);
        File.WriteAllBytes(path, zip);
        return path;
    }

    private static float[][] Scores(ITransformer model, IDataView data) => TinyData.Scores(model.Transform(data));

    [Fact]
    public void TraversalNamesAndPathLikeDigestsInAnEmbeddedZipWriteNothingOutsideTheCache()
    {
        var (context, model, data) = ModelZipTests.FitOwnBase(TinyBaseModel.Create("roberta", seed: 221), embed: true);
        var zip = new ZipVariants(_folders.SaveZip(context, model, data, "embedded.zip"));
        var header = zip.Header;
        var files = header.BaseFiles.ToArray();

        // The case: a 64-character "digest" that is a path (here into the sentinel folder), and relative traversals.
        string pathLike = TrustFolders.PathLike64(_folders.Sentinel);
        Assert.Equal(64, pathLike.Length);
        var digest = Assert.IsType<FormatException>(LoadError(Write(zip.WithHeader(header with
        {
            BaseFiles = files.Select(f => f with { Sha256 = pathLike }).ToArray(),
        }), "path-digest.zip")));
        Assert.Contains("is not 64 hex digits", digest.Message);

        foreach (string name in new[] { "../../sentinel/vocab.json", Path.Combine(_folders.Sentinel, "vocab.json"), "../vocab.json" })
        {
            var crafted = files.Select(f => f.Name == "vocab.json" ? f with { Name = name } : f).ToArray();
            var error = Assert.IsType<FormatException>(LoadError(Write(zip.WithHeader(header with { BaseFiles = crafted }), "traversal.zip")));
            Assert.Contains("not one of", error.Message);
            Assert.Contains("config.json", error.Message);
        }
        _folders.AssertNothingWrittenOutsideTheCache();
        Assert.False(Directory.Exists(_folders.Cache) && Directory.EnumerateFileSystemEntries(_folders.Cache).Any(), "a refused zip extracted nothing");
    }

    [Fact]
    public void ABaseWhoseConfigChangedIsRefusedNamingTheFileAndHowToPointToTheRightOne()
    {
        string baseFolder = TinyBaseModel.Create("bert", seed: 222);
        var (context, model, data) = ModelZipTests.FitOwnBase(baseFolder);
        string path = _folders.SaveZip(context, model, data, "plain.zip");
        string config = Path.Combine(baseFolder, "config.json");
        string before = Sha256Of(config);
        var json = JsonNode.Parse(File.ReadAllText(config))!.AsObject();
        json["layer_norm_eps"] = 1e-5;
        File.WriteAllText(config, json.ToJsonString());

        var error = Assert.IsType<InvalidOperationException>(LoadError(path));
        Assert.Contains($"config.json differs: expected SHA-256 {before}, found {Sha256Of(config)}", error.Message);
        Assert.Contains(Path.GetFullPath(baseFolder), error.Message);
        Assert.Contains("PrefixTuningBaseModels.Register", error.Message);
        Assert.Contains(PrefixTuningBaseModels.EnvironmentVariable, error.Message);
        Assert.Contains("EmbedBaseModel", error.Message);
    }

    [Fact]
    public void ABaseWhoseVocabularyHasTwoSwappedLinesIsRefusedNamingTheFile()
    {
        string baseFolder = TinyBaseModel.Create("bert", seed: 223);
        var (context, model, data) = ModelZipTests.FitOwnBase(baseFolder);
        string path = _folders.SaveZip(context, model, data, "plain.zip");
        string vocab = Path.Combine(baseFolder, "vocab.txt");
        string before = Sha256Of(vocab);
        SwapVocabularyLines(vocab);

        var error = Assert.IsType<InvalidOperationException>(LoadError(path));
        Assert.Contains($"vocab.txt differs: expected SHA-256 {before}, found {Sha256Of(vocab)}", error.Message);
        Assert.Contains("PrefixTuningBaseModels.Register", error.Message);
    }

    [Fact]
    public void ASecondEmbeddedZipWithAnotherVocabularyDoesNotReuseTheFirstOnesCache()
    {
        string first = TinyBaseModel.Create("bert", seed: 224);
        string second = TinyBaseModel.Copy(first); // the same weights
        SwapVocabularyLines(Path.Combine(second, "vocab.txt"));
        var (context1, model1, data) = ModelZipTests.FitOwnBase(first, embed: true);
        var (context2, model2, _) = ModelZipTests.FitOwnBase(second, embed: true);
        string zip1 = _folders.SaveZip(context1, model1, data, "first.zip");
        string zip2 = _folders.SaveZip(context2, model2, data, "second.zip");
        byte[] secondVocab = File.ReadAllBytes(Path.Combine(second, "vocab.txt"));
        float[][] expected1 = Scores(model1, data), expected2 = Scores(model2, data);
        Directory.Delete(first, recursive: true);
        Directory.Delete(second, recursive: true);

        Assert.Equal(expected1, Scores(new MLContext().Model.Load(zip1, out _), data));
        Assert.Equal(expected2, Scores(new MLContext().Model.Load(zip2, out _), data));
        string[] cached = Directory.GetDirectories(_folders.Cache);
        Assert.Equal(2, cached.Length);
        Assert.Contains(cached, folder => File.ReadAllBytes(Path.Combine(folder, "vocab.txt")).SequenceEqual(secondVocab));
    }

    [Fact]
    public void ATamperedOrPlantedCacheFileIsDetectedAndTheBaseExtractedAgain()
    {
        var (context, model, data) = ModelZipTests.FitOwnBase(TinyBaseModel.Create("roberta", seed: 225), embed: true);
        string path = _folders.SaveZip(context, model, data, "embedded.zip");
        float[][] expected = Scores(model, data);
        Assert.Equal(expected, Scores(new MLContext().Model.Load(path, out _), data));
        string folder = Assert.Single(Directory.GetDirectories(_folders.Cache));
        string merges = Path.Combine(folder, "merges.txt");
        byte[] original = File.ReadAllBytes(merges);

        byte[] tampered = (byte[])original.Clone();
        tampered[^2] ^= 0x01; // same length, other content
        File.WriteAllBytes(merges, tampered);
        Assert.Equal(expected, Scores(new MLContext().Model.Load(path, out _), data));
        Assert.Equal(original, File.ReadAllBytes(merges));

        // A tokenizer file the model did not have would change how it tokenizes.
        File.WriteAllText(Path.Combine(folder, "special_tokens_map.json"), """{"cls_token": "<mask>"}""");
        Assert.Equal(expected, Scores(new MLContext().Model.Load(path, out _), data));
        Assert.False(File.Exists(Path.Combine(folder, "special_tokens_map.json")));
        _folders.AssertNothingWrittenOutsideTheCache();
    }

    [Fact]
    public void EmbeddingStoresOnlyTheFilesTheModelReadsAndExtractsThemOwnerOnly()
    {
        string baseFolder = TinyBaseModel.Create("roberta", seed: 226);
        File.WriteAllText(Path.Combine(baseFolder, "authorized_keys"), "ssh-ed25519 AAAA... someone@example");
        File.WriteAllText(Path.Combine(baseFolder, "notes.txt"), "not part of the model");
        var (context, model, data) = ModelZipTests.FitOwnBase(baseFolder, embed: true);
        string path = _folders.SaveZip(context, model, data, "embedded.zip");

        var zip = new ZipVariants(path);
        string[] embedded = zip.Entries.Select(e => e.Name).Where(n => n.StartsWith(zip.Folder + "Base/", StringComparison.Ordinal))
            .Select(n => n[(zip.Folder.Length + "Base/".Length)..]).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(new[] { "config.json", "merges.txt", "model.safetensors", "tokenizer_config.json", "vocab.json" }, embedded);
        Assert.Equal(embedded, zip.Header.BaseFiles.Select(f => f.Name).Order(StringComparer.Ordinal));

        new MLContext().Model.Load(path, out _);
        string folder = Assert.Single(Directory.GetDirectories(_folders.Cache));
        Assert.Equal(embedded, Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        if (!OperatingSystem.IsWindows())
        {
            var ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
            Assert.Equal(ownerOnly, File.GetUnixFileMode(_folders.Cache));
            Assert.Equal(ownerOnly, File.GetUnixFileMode(folder));
            foreach (string file in Directory.GetFiles(folder))
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
    }

    [Fact]
    public void StagingFoldersOfKilledProcessesAreRemovedByTheNextExtraction()
    {
        var (context, model, data) = ModelZipTests.FitOwnBase(TinyBaseModel.Create("roberta", seed: 227), embed: true);
        string path = _folders.SaveZip(context, model, data, "embedded.zip");
        string stale = Path.Combine(_folders.Cache, $".staging-{int.MaxValue}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(stale);
        File.WriteAllBytes(Path.Combine(stale, "model.safetensors"), new byte[100]);

        new MLContext().Model.Load(path, out _);
        Assert.False(Directory.Exists(stale));
        _folders.AssertNothingWrittenOutsideTheCache();
    }

    [Fact]
    public void TheDefaultCacheIsPerUserAndFollowsXdgCacheHome()
    {
        string? saved = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        try
        {
            if (OperatingSystem.IsWindows())
            {
                Assert.StartsWith(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), EmbeddedBaseCache.DefaultRoot());
                return;
            }
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", _folders.Root);
            Assert.Equal(Path.Combine(_folders.Root, "ptuning", "embedded-base"), EmbeddedBaseCache.DefaultRoot());
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", "relative/cache"); // invalid by the XDG rules: ignored
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            Assert.Equal(Path.Combine(home, ".cache", "ptuning", "embedded-base"), EmbeddedBaseCache.DefaultRoot());
            Assert.DoesNotContain(Path.GetTempPath().TrimEnd('/'), EmbeddedBaseCache.DefaultRoot());
        }
        finally
        {
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", saved);
        }
    }

    [Fact]
    public void AnAdapterWithANaNIsRefusedNamingTheTensor()
    {
        string path = _folders.SaveZip(models.Context, models.Text, models.TextData, "plain.zip");
        var zip = new ZipVariants(path);
        string adapterName = zip.Folder + ModelZipFormat.AdapterStream;
        byte[] adapter = (byte[])zip[adapterName].Clone();
        BinaryPrimitives.WriteSingleLittleEndian(adapter.AsSpan(adapter.Length - 4), float.NaN); // the last value of the last tensor
        var header = zip.Header with { AdapterLength = adapter.Length, AdapterSha256 = Convert.ToHexStringLower(SHA256.HashData(adapter)) };
        byte[] crafted = new ZipVariants(Write(zip.WithHeader(header), "header.zip")).With(adapterName, adapter);

        var error = Assert.IsType<FormatException>(LoadError(Write(crafted, "nan.zip")));
        Assert.Matches("the tensor '[^']+' of the stream 'Adapter.safetensors' holds NaN or infinite values", error.Message);
    }

    [Fact]
    public void AnEmbeddedBaseWithANaNWeightIsRefusedNamingTheTensor()
    {
        var (context, model, data) = ModelZipTests.FitOwnBase(TinyBaseModel.Create("roberta", seed: 229), embed: true);
        var zip = new ZipVariants(_folders.SaveZip(context, model, data, "embedded.zip"));
        string weightsName = zip.Folder + EmbeddedBaseModel.StreamName("model.safetensors");
        byte[] weights = (byte[])zip[weightsName].Clone();
        BinaryPrimitives.WriteSingleLittleEndian(weights.AsSpan(weights.Length - 4), float.NaN);
        var header = zip.Header with
        {
            BaseFiles = zip.Header.BaseFiles.Select(f => f.Name == "model.safetensors" ? f with { Sha256 = Convert.ToHexStringLower(SHA256.HashData(weights)) } : f).ToArray(),
        };
        byte[] crafted = new ZipVariants(Write(zip.WithHeader(header), "header.zip")).With(weightsName, weights);

        var error = Assert.IsType<FormatException>(LoadError(Write(crafted, "nan-base.zip")));
        Assert.Contains("embedded base model cannot be loaded", error.Message);
        Assert.Matches("tensor '[^']+' holds NaN or infinite values", error.Message);
    }

    [Fact]
    public void InferenceOverNonFiniteLogitsFailsNamingTheRow()
    {
        string baseFolder = TinyBaseModel.Create("roberta", seed: 228);
        var (_, model, _) = ModelZipTests.FitOwnBase(baseFolder);
        var engine = TinyData.PrefixTuningOf(model).Engine;
        using (TorchSharp.torch.no_grad())
        {
            foreach (var parameter in engine.Model.parameters()) // the prefix and the head (the backbone is shared, not registered)
                parameter.fill_(float.PositiveInfinity);
        }
        var error = Assert.Throws<InvalidOperationException>(() => engine.Classify(new[] { new Runtime.SentencePair("hello there", null), new Runtime.SentencePair("again", null) }));
        Assert.Contains("non-finite logit", error.Message);
        Assert.Contains("input 0", error.Message);
    }

    [Fact]
    public void AnOlderOrNewerFormatVersionIsRefusedNamingTheZipsVersion()
    {
        var zip = new ZipVariants(_folders.SaveZip(models.Context, models.Text, models.TextData, "plain.zip"));
        var older = Assert.IsType<FormatException>(LoadError(Write(zip.WithVersion(0x00010001, 0x00010001), "older.zip")));
        Assert.Contains("format version 0x00010001, older than this library reads", older.Message);
        Assert.Contains("Retrain", older.Message);
        var newer = Assert.IsType<FormatException>(LoadError(Write(zip.WithVersion(0x00010004, 0x00010004), "newer.zip")));
        Assert.Contains("format version 0x00010004, newer than this library reads", newer.Message);
        Assert.Contains("update Microsoft.ML.PTuning", newer.Message);
    }

    [Fact]
    public void AZipOfThePreviousFormatVersionStillLoadsWithClsPooling()
    {
        string path = _folders.SaveZip(models.Context, models.Text, models.TextData, "current.zip");
        var zip = new ZipVariants(path);
        Assert.Equal(PoolingMode.Cls, zip.Header.Pooling);
        // 0x00010002 wrote no prompt template ("": one byte), no label-word count (int 0) and no pooling (int) after the
        // prefix depth; every model then pooled with Cls.
        byte[] previous = zip.Header.ToBytes()[..^9];
        string rewritten = Write(zip.WithHeaderBytes(previous), "previous-header.zip");
        string old = Write(new ZipVariants(rewritten).WithVersion(0x00010002, 0x00010002), "previous.zip");
        var mlContext = new MLContext(seed: 1);
        float[][] expected = TinyData.Scores(mlContext.Model.Load(path, out _).Transform(models.TextData));
        ITransformer loaded = mlContext.Model.Load(old, out _);
        Assert.Equal(PoolingMode.Cls, TinyData.PrefixTuningOf(loaded).Trained.Spec.Pooling);
        Assert.Equal(0f, TinyData.MaxDifference(expected, TinyData.Scores(loaded.Transform(models.TextData))));
        // The same bytes claiming the current version are short by those fields, and refused.
        Assert.IsType<FormatException>(LoadError(Write(new ZipVariants(rewritten).WithVersion(0x00010003, 0x00010003), "short.zip")));
    }

    private static string Sha256Of(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    // Two ordinary (non-special) tokens trade places: same bytes, other ids.
    private static void SwapVocabularyLines(string vocab)
    {
        var lines = File.ReadAllLines(vocab);
        int a = lines.Length - 2, b = lines.Length - 3;
        (lines[a], lines[b]) = (lines[b], lines[a]);
        File.WriteAllLines(vocab, lines);
    }
}
