using Microsoft.ML.PTuning.Checkpoints;
using Microsoft.ML.PTuning.Samples;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Checkpoints;

/// <summary>Reading the pooling a sentence-transformers folder declares (modules.json → 1_Pooling/config.json).</summary>
public class SentenceTransformersPoolingTests
{
    private static string Folder(string? modules, string poolingFolder = "1_Pooling", string? poolingConfig = null)
    {
        string folder = TestPaths.NewTempFolder("st-pooling");
        if (modules != null)
            File.WriteAllText(Path.Combine(folder, "modules.json"), modules);
        if (poolingConfig != null)
        {
            Directory.CreateDirectory(Path.Combine(folder, poolingFolder));
            File.WriteAllText(Path.Combine(folder, poolingFolder, "config.json"), poolingConfig);
        }
        return folder;
    }

    private const string Modules = """
        [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
         {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
         {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]
        """;

    private static readonly string[] Flags = ["pooling_mode_cls_token", "pooling_mode_mean_tokens", "pooling_mode_max_tokens", "pooling_mode_lasttoken"];

    // A pooling config in which exactly trueFlag is set.
    private static string Config(string trueFlag) =>
        "{\"word_embedding_dimension\": 32, " + string.Join(", ", Flags.Select(f => $"\"{f}\": {(f == trueFlag ? "true" : "false")}")) + "}";

    [Theory]
    [InlineData("pooling_mode_mean_tokens", PoolingMode.Mean)]
    [InlineData("pooling_mode_cls_token", PoolingMode.Cls)]
    public void ReadsTheModeThePoolingModuleSets(string flag, PoolingMode expected) =>
        Assert.Equal(expected, SentenceTransformersPooling.Read(Folder(Modules, poolingConfig: Config(flag))));

    [Fact]
    public void TheMiniLMImportIsRecognisedAsTheMeanPoolingSentenceTransformer() =>
        Assert.Equal(PoolingMode.Mean, SentenceTransformersPooling.Read(MiniLM.HuggingFaceFolder));

    [Fact]
    public void APlainHuggingFaceFolderHasNone() => Assert.Null(SentenceTransformersPooling.Read(Folder(modules: null)));

    [Fact]
    public void WhatTheImportWritesReadsBack()
    {
        foreach (PoolingMode mode in new[] { PoolingMode.Cls, PoolingMode.Mean })
        {
            var (modules, config) = SentenceTransformersPooling.Describe(mode, 32);
            Assert.Equal(mode, SentenceTransformersPooling.Read(Folder(modules.ToJsonString(), poolingConfig: config.ToJsonString())));
        }
    }

    [Theory]
    [InlineData("pooling_mode_max_tokens")]
    [InlineData("pooling_mode_lasttoken")]
    public void APoolingThisLibraryLacksIsRefusedNamingTheFileAndTheOption(string flag)
    {
        string folder = Folder(Modules, poolingConfig: Config(flag));
        var e = Assert.Throws<NotSupportedException>(() => SentenceTransformersPooling.Read(folder));
        Assert.Contains(Path.Combine(folder, "1_Pooling", "config.json"), e.Message);
        Assert.Contains(flag, e.Message);
        Assert.Contains("Pooling", e.Message);
    }

    [Theory]
    [InlineData("../outside")]
    [InlineData("/etc")]
    [InlineData("a/b")]
    [InlineData("..")]
    public void APoolingPathThatLeavesTheFolderIsRefused(string path)
    {
        string modules = $$"""[{"idx": 1, "name": "1", "path": "{{path}}", "type": "sentence_transformers.models.Pooling"}]""";
        var e = Assert.Throws<InvalidDataException>(() => SentenceTransformersPooling.Read(Folder(modules)));
        Assert.Contains("modules.json", e.Message);
        Assert.Contains("one folder name", e.Message);
    }

    [Theory]
    [InlineData("{\"not\": \"an array\"}", "JSON array")]
    [InlineData("[1, 2]", "JSON object")]
    [InlineData("[{\"type\": \"sentence_transformers.models.Pooling\"}]", "no 'path'")]
    [InlineData("not json", "not valid JSON")]
    public void MalformedModulesAreRefusedNamingTheFile(string modules, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => SentenceTransformersPooling.Read(Folder(modules)));
        Assert.Contains("modules.json", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void AMissingPoolingConfigOrOneWithNoModeIsRefused()
    {
        Assert.Contains("has no config.json", Assert.Throws<InvalidDataException>(() => SentenceTransformersPooling.Read(Folder(Modules))).Message);
        string none = """{"pooling_mode_cls_token": false, "pooling_mode_mean_tokens": false}""";
        Assert.Contains("sets none of", Assert.Throws<InvalidDataException>(() => SentenceTransformersPooling.Read(Folder(Modules, poolingConfig: none))).Message);
    }
}
