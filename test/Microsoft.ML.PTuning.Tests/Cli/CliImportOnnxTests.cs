using Microsoft.ML.PTuning.Cli;
using Microsoft.ML.PTuning.Samples;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Cli;

/// <summary><c>ptuning import-onnx</c> on all-MiniLM-L6-v2 (from its NuGet package): the library's import, file for file.</summary>
public sealed class CliImportOnnxTests
{
    [Fact]
    public void ImportOnnxWritesTheFolderTheLibraryWrites()
    {
        string folder = TestPaths.NewTempFolder("cli-import");
        string onnx = Path.Combine(folder, "model.onnx"), vocab = Path.Combine(folder, "vocab.txt"), output = Path.Combine(folder, "minilm");
        File.WriteAllBytes(onnx, MiniLM.OnnxBytes());
        using (Stream resource = MiniLM.OpenResource(MiniLM.VocabularyResource))
        using (FileStream file = File.Create(vocab))
            resource.CopyTo(file);

        CliResult imported = CliRunner.Run("import-onnx", "--onnx", onnx, "--vocab", vocab, "--output", output);
        CliResult again = CliRunner.Run("import-onnx", "--onnx", onnx, "--vocab", vocab, "--output", output);

        Assert.True(imported.ExitCode == ExitCodes.Success, imported.ToString());
        Assert.Contains("model.safetensors", imported.StdOut);
        string[] files = Directory.GetFiles(output).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
        Assert.Equal(Directory.GetFiles(MiniLM.HuggingFaceFolder).Select(Path.GetFileName).Order(StringComparer.Ordinal), files);
        foreach (string file in files)
            Assert.True(File.ReadAllBytes(Path.Combine(output, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(MiniLM.HuggingFaceFolder, file))), file);
        Assert.True(again.ExitCode == ExitCodes.UsageError, again.ToString());
        Assert.Contains("not empty", again.StdErr);
    }
}
