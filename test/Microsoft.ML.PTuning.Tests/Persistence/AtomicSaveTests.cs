using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.PTuning.Tests.Pipeline;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Persistence;

/// <summary>
/// <c>mlContext.Model.SaveAtomically</c>: a save that fails or is killed part-way leaves the old model file intact and
/// loadable, and temporary files do not pile up.
/// </summary>
[Collection(PipelineCollection.Name)]
[FreshProcessCommands]
public class AtomicSaveTests(TrainedModels models)
{
    static AtomicSaveTests()
    {
        // Loads args[0] and saves it to args[1] over and over, until killed.
        FreshProcess.Register("save-until-killed", args =>
        {
            var mlContext = new MLContext(seed: 5);
            ITransformer model = mlContext.Model.Load(args[0], out DataViewSchema schema);
            while (true)
                mlContext.Model.SaveAtomically(model, schema, args[1]);
        });
    }

    private static string[] Temporaries(string folder) =>
        Directory.GetFiles(folder, ".*.saving").Select(Path.GetFileName).ToArray()!;

    // The model's scores on the training data, every digit, as one string.
    private string ScoresOf(ITransformer model) =>
        string.Join(";", TinyData.Scores(model.Transform(models.TextData)).SelectMany(r => r).Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

    private string ScoresOf(string path) => ScoresOf(new MLContext(seed: 9).Model.Load(path, out _));

    [Fact]
    public void ASaveReplacesTheFileAndLeavesNoTemporaryFile()
    {
        string folder = TestPaths.NewTempFolder("atomic");
        string path = Path.Combine(folder, "model.zip");
        File.WriteAllText(path, "an older file");

        models.Context.Model.SaveAtomically(models.Text, models.TextData.Schema, path);

        Assert.Equal(ScoresOf(models.Text), ScoresOf(path));
        Assert.Equal(["model.zip"], Directory.GetFileSystemEntries(folder).Select(Path.GetFileName));
    }

    [Fact]
    public void AFailingSaveLeavesTheOldFileAndRemovesItsTemporaryFile()
    {
        string folder = TestPaths.NewTempFolder("atomic");
        string path = Path.Combine(folder, "model.zip");
        models.Context.Model.SaveAtomically(models.Text, models.TextData.Schema, path);
        byte[] good = File.ReadAllBytes(path);

        var error = Assert.ThrowsAny<Exception>(() => models.Context.Model.SaveAtomically(new FailsToSave(), models.TextData.Schema, path));
        Assert.Equal("disk full (simulated)", TinyData.Innermost(error).Message);

        Assert.Equal(good, File.ReadAllBytes(path));
        Assert.Empty(Temporaries(folder));
    }

    [Fact]
    public void StaleTemporaryFilesAreRemovedButOnesInUseAndOthersAreKept()
    {
        string folder = TestPaths.NewTempFolder("atomic");
        string path = Path.Combine(folder, "model.zip");
        string stale = Path.Combine(folder, ".model.zip.0123456789abcdef.saving");
        string inUse = Path.Combine(folder, ".model.zip.fedcba9876543210.saving");
        string otherTarget = Path.Combine(folder, ".other.zip.0123456789abcdef.saving");
        File.WriteAllText(stale, "left by a killed save");
        File.WriteAllText(otherTarget, "another model's");
        using (var live = new FileStream(inUse, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None))
        {
            models.Context.Model.SaveAtomically(models.Text, models.TextData.Schema, path);
            Assert.False(File.Exists(stale));
            Assert.True(File.Exists(inUse));   // a live save's file is locked, and left alone
            Assert.True(File.Exists(otherTarget));
        }
        models.Context.Model.SaveAtomically(models.Text, models.TextData.Schema, path);
        Assert.Equal([".other.zip.0123456789abcdef.saving"], Temporaries(folder));
    }

    [Fact]
    public void BadPathsAreRefusedNamingThem()
    {
        string folder = TestPaths.NewTempFolder("atomic");
        Assert.Contains(folder, Assert.Throws<ArgumentException>(() => models.Context.Model.SaveAtomically(models.Text, models.TextData.Schema, folder)).Message);
        string missing = Path.Combine(folder, "absent", "model.zip");
        Assert.Contains(Path.Combine(folder, "absent"), Assert.Throws<DirectoryNotFoundException>(() => models.Context.Model.SaveAtomically(models.Text, models.TextData.Schema, missing)).Message);
    }

    [Fact]
    public void KilledPartWayThroughSavesTheOldZipStillLoadsAndPredicts()
    {
        string folder = TestPaths.NewTempFolder("atomic-kill");
        string path = Path.Combine(folder, "model.zip");
        models.Context.Model.SaveAtomically(models.Text, models.TextData.Schema, path);
        string expected = ScoresOf(path);
        string source = Path.Combine(TestPaths.NewTempFolder("atomic-source"), "source.zip");
        File.Copy(path, source);
        // The child's ML.NET staging folders (ml_dotnet_*) go to a temp folder of its own, to be seen and removed here.
        string childTemp = TestPaths.NewTempFolder("atomic-child-temp");
        var environment = new Dictionary<string, string> { ["TMPDIR"] = childTemp };

        int killedMidWrite = 0;
        for (int round = 0; round < 3; round++)
        {
            using Process child = FreshProcess.Start("save-until-killed", environment, source, path);
            try
            {
                // Kill as soon as a save is seen part-way: its temporary file exists and has bytes in it.
                var clock = Stopwatch.StartNew();
                while (!Temporaries(folder).Any(t => new FileInfo(Path.Combine(folder, t)) is { Exists: true, Length: > 0 }))
                {
                    if (child.HasExited)
                        Assert.Fail($"the saving process exited with {child.ExitCode}: {child.StandardError.ReadToEnd()}");
                    Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), "no save started within 2 minutes");
                    Thread.Sleep(1);
                }
            }
            finally
            {
                child.Kill(entireProcessTree: true);   // SIGKILL: nothing of the child runs after this
                child.WaitForExit();
            }

            if (Temporaries(folder).Length > 0)
                killedMidWrite++;
            Assert.Equal(expected, ScoresOf(path));
        }
        Assert.True(killedMidWrite > 0, "no kill landed while a save was writing");
        // What the docs say of ML.NET itself: a killed save leaves its staging folder under the temp folder.
        Assert.NotEmpty(Directory.GetDirectories(childTemp, "ml_dotnet_*"));

        // The next save removes what the killed ones left.
        models.Context.Model.SaveAtomically(models.Text, models.TextData.Schema, path);
        Assert.Empty(Temporaries(folder));
        Assert.Equal(expected, ScoresOf(path));
        Directory.Delete(childTemp, recursive: true);
    }

    /// <summary>A transformer whose save fails part-way, as on a full disk.</summary>
    private sealed class FailsToSave : ITransformer
    {
        public bool IsRowToRowMapper => true;

        public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => inputSchema;

        public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => throw new NotSupportedException();

        public IDataView Transform(IDataView input) => input;

        void ICanSaveModel.Save(ModelSaveContext ctx) => throw new IOException("disk full (simulated)");
    }
}
