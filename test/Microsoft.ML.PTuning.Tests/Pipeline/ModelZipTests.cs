using System.Globalization;
using System.IO.Compression;
using Microsoft.ML.Data;
using Microsoft.ML.PTuning.Runtime;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Pipeline;

[Collection(PipelineCollection.Name)]
[FreshProcessCommands]
public class ModelZipTests(TrainedModels models)
{
    static ModelZipTests()
    {
        // Loads a saved text pipeline in a new process and prints the scores of the tiny training data.
        FreshProcess.Register("pipeline-scores", args =>
        {
            var mlContext = new MLContext(seed: 5);
            ITransformer loaded = mlContext.Model.Load(args[0], out _);
            IDataView data = TinyData.LoadSingle(mlContext, TinyData.Text(perClass: 16, seed: 1));
            return Format(TinyData.Scores(loaded.Transform(data)));
        });
    }

    private static string Format(float[][] scores) =>
        string.Join(";", scores.Select(row => string.Join(",", row.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))));

    internal static string Save(MLContext mlContext, ITransformer model, IDataView data)
    {
        string path = Path.Combine(TestPaths.NewTempFolder("zip"), "model.zip");
        mlContext.Model.Save(model, data.Schema, path);
        return path;
    }

    /// <summary>A quick linear probe over its own base folder (for tests that change or delete that folder).</summary>
    internal static (MLContext Context, ITransformer Model, IDataView Data) FitOwnBase(string baseFolder, bool embed = false)
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = TinyData.LoadSingle(mlContext, TinyData.Text(perClass: 4, seed: 1));
        var options = TinyData.TextOptions(baseFolder, TuningMethod.PrefixTuning, epochs: 1);
        options.EmbedBaseModel = embed;
        return (mlContext, TinyData.TextPipeline(mlContext, options).Fit(data), data);
    }

    [Fact]
    public void TextModelRoundTripsThroughTheZipWithIdenticalScores()
    {
        string path = Save(models.Context, models.Text, models.TextData);
        var fresh = new MLContext(seed: 9);
        ITransformer loaded = fresh.Model.Load(path, out var schema);
        Assert.NotNull(schema.GetColumnOrNull("Sentence1"));

        float[][] before = TinyData.Scores(models.Text.Transform(models.TextData));
        float[][] after = TinyData.Scores(loaded.Transform(TinyData.LoadSingle(fresh, TinyData.Text(perClass: 16, seed: 1))));
        Assert.Equal(0f, TinyData.MaxDifference(before, after));
        Assert.Equal(models.Text.Transform(models.TextData).GetColumn<string>("PredictedText"),
            loaded.Transform(models.TextData).GetColumn<string>("PredictedText"));
        var prefix = TinyData.PrefixTuningOf(loaded);
        Assert.Equal(TuningMethod.PrefixTuning, prefix.Method);
        Assert.Equal(TinyData.Classes, prefix.ClassNames);
    }

    [Fact]
    public void TokenModelRoundTripsThroughTheZip()
    {
        string path = Save(models.Context, models.Tokens, models.TokenData);
        ITransformer loaded = new MLContext(seed: 3).Model.Load(path, out _);
        var before = models.Tokens.Transform(models.TokenData).GetColumn<string[]>("PredictedTags").ToArray();
        var after = loaded.Transform(models.TokenData).GetColumn<string[]>("PredictedTags").ToArray();
        Assert.Equal(before, after);
    }

    [Fact]
    public void AFreshProcessLoadsTheZipAndScoresIdentically()
    {
        string path = Save(models.Context, models.Text, models.TextData);
        string expected = Format(TinyData.Scores(models.Text.Transform(models.TextData)));
        Assert.Equal(expected, FreshProcess.Run("pipeline-scores", path));
    }

    [Fact]
    public void ABaseFolderWithOtherWeightsFailsToLoadUntilACopyIsRegistered()
    {
        string baseFolder = TinyBaseModel.Create("roberta", seed: 101);
        var (mlContext, model, data) = FitOwnBase(baseFolder);
        float[][] expected = TinyData.Scores(model.Transform(data));
        string path = Save(mlContext, model, data);
        string sha = BaseModel.Load(baseFolder, TorchSharp.torch.CPU, null).WeightsSha256;

        string copy = TinyBaseModel.Copy(baseFolder);
        TinyBaseModel.OverwriteWeights(baseFolder, seed: 102);

        var error = Assert.IsType<InvalidOperationException>(TinyData.Innermost(Assert.ThrowsAny<Exception>(() => new MLContext().Model.Load(path, out _))));
        Assert.Contains(Path.GetFullPath(baseFolder), error.Message);
        Assert.Contains(sha, error.Message);
        Assert.Contains("PrefixTuningBaseModels.Register", error.Message);
        Assert.Contains(PrefixTuningBaseModels.EnvironmentVariable, error.Message);

        PrefixTuningBaseModels.Register(copy);
        ITransformer loaded = new MLContext().Model.Load(path, out _);
        Assert.Equal(0f, TinyData.MaxDifference(expected, TinyData.Scores(loaded.Transform(data))));
    }

    [Fact]
    public void RetrainingAfterTheBaseWeightsChangedUsesAndRecordsTheNewWeights()
    {
        string baseFolder = TinyBaseModel.Create("roberta", seed: 105);
        var (_, first, data) = FitOwnBase(baseFolder);
        TinyBaseModel.OverwriteWeights(baseFolder, seed: 106);
        var (mlContext, second, _) = FitOwnBase(baseFolder);
        float[][] expected = TinyData.Scores(second.Transform(data));
        Assert.True(TinyData.MaxDifference(TinyData.Scores(first.Transform(data)), expected) > 1e-4, "the new weights were not used");

        ITransformer loaded = new MLContext().Model.Load(Save(mlContext, second, data), out _);
        Assert.Equal(0f, TinyData.MaxDifference(expected, TinyData.Scores(loaded.Transform(data))));
    }

    [Fact]
    public void AMissingBaseFolderFailsWithItsPathAndHash()
    {
        string baseFolder = TinyBaseModel.Create("bert", seed: 103);
        var (mlContext, model, data) = FitOwnBase(baseFolder);
        string path = Save(mlContext, model, data);
        Directory.Delete(baseFolder, recursive: true);
        var error = Assert.IsType<InvalidOperationException>(TinyData.Innermost(Assert.ThrowsAny<Exception>(() => new MLContext().Model.Load(path, out _))));
        Assert.Contains(Path.GetFullPath(baseFolder), error.Message);
        Assert.Contains("SHA-256", error.Message);
    }

    [Fact]
    public void AnEmbeddedBaseModelLoadsAfterItsFolderIsDeleted()
    {
        using var cache = new Persistence.TrustFolders(); // extracts into the test's own folder, not the user's cache
        string baseFolder = TinyBaseModel.Create("roberta", seed: 104);
        long weightBytes = TinyBaseModel.WeightBytes(baseFolder);
        var (mlContext, model, data) = FitOwnBase(baseFolder, embed: true);
        float[][] expected = TinyData.Scores(model.Transform(data));
        string embedded = Save(mlContext, model, data);
        Directory.Delete(baseFolder, recursive: true);

        ITransformer loaded = new MLContext().Model.Load(embedded, out _);
        Assert.Equal(0f, TinyData.MaxDifference(expected, TinyData.Scores(loaded.Transform(data))));
        Assert.True(new FileInfo(embedded).Length > weightBytes / 2, "the embedded zip holds the (compressed) base weights");
    }

    [Fact]
    public void AZipWithoutTheBaseIsMuchSmallerThanTheBaseWeights()
    {
        string path = Save(models.Context, models.Text, models.TextData);
        long zip = new FileInfo(path).Length;
        long weights = TinyBaseModel.WeightBytes(TinyBaseModel.Get());
        Assert.True(zip * 5 < weights, $"zip {zip:N0} bytes, base weights {weights:N0} bytes");
    }

    [Fact]
    public void ATruncatedZipFailsToLoad()
    {
        string path = Save(models.Context, models.Text, models.TextData);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var error = Assert.ThrowsAny<FormatException>(() => new MLContext().Model.Load(path, out _));
        Assert.Contains("zip", error.Message);
    }

    [Fact]
    public void ACorruptAdapterStreamFailsWithAFormatError()
    {
        string path = Save(models.Context, models.Text, models.TextData);
        using (var archive = ZipFile.Open(path, ZipArchiveMode.Update))
        {
            var entry = archive.Entries.Single(e => e.FullName.EndsWith("Adapter.safetensors", StringComparison.Ordinal));
            string name = entry.FullName;
            entry.Delete();
            using var stream = archive.CreateEntry(name).Open();
            stream.Write("not a safetensors file"u8);
        }
        var error = Assert.IsType<FormatException>(TinyData.Innermost(Assert.ThrowsAny<Exception>(() => new MLContext().Model.Load(path, out _))));
        Assert.Contains("Adapter.safetensors", error.Message);
    }
}
