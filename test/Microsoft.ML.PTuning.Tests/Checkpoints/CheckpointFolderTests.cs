using Microsoft.ML.PTuning.Checkpoints;
using Microsoft.ML.PTuning.Tests.Modeling;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Checkpoints;

/// <summary>Both folder loaders report a missing folder, configuration or weight file in the same words.</summary>
public class CheckpointFolderTests
{
    [Theory]
    [InlineData("model")]
    [InlineData("adapter")]
    public void MissingPiecesNameTheFolderAndTheFile(string kind)
    {
        (string label, string configName, IReadOnlyList<string> weightNames, string config, Action<string> load) = kind == "model"
            ? ("Model folder", HuggingFaceCheckpoint.ConfigFileName, HuggingFaceCheckpoint.WeightFileNames, TinyEncoders.Roberta().ToJson(),
                (Action<string>)(f => HuggingFaceCheckpoint.Load(f).Dispose()))
            : ("Adapter folder", PeftAdapter.ConfigFileName, PeftAdapter.WeightFileNames,
                """{ "peft_type": "PREFIX_TUNING", "task_type": "SEQ_CLS", "num_virtual_tokens": 3 }""",
                f => PeftAdapter.Load(f).Dispose());
        string folder = TestPaths.NewTempFolder("ckpt-folder");
        try
        {
            string absent = Path.Combine(folder, "absent");
            var noFolder = Assert.Throws<DirectoryNotFoundException>(() => load(absent));
            Assert.Equal($"{label} '{absent}' does not exist.", noFolder.Message);

            var noConfig = Assert.Throws<FileNotFoundException>(() => load(folder));
            Assert.Equal($"{label} '{folder}' has no {configName}.", noConfig.Message);
            Assert.Equal(Path.Combine(folder, configName), noConfig.FileName);

            File.WriteAllText(Path.Combine(folder, configName), config);
            var noWeights = Assert.Throws<FileNotFoundException>(() => load(folder));
            Assert.Equal($"{label} '{folder}' has no weight file; looked for {string.Join(", ", weightNames)}.", noWeights.Message);
            Assert.Equal(Path.Combine(folder, weightNames[0]), noWeights.FileName);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
