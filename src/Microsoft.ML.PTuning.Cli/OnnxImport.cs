namespace Microsoft.ML.PTuning.Cli;

/// <summary>The library's <see cref="OnnxEncoderImport"/> with the tool's errors: every failure is a model error naming the file.</summary>
internal static class OnnxImport
{
    /// <summary>Imports <paramref name="onnxPath"/> with <paramref name="vocabPath"/> into <paramref name="outputFolder"/>; returns its full path.</summary>
    public static string Run(string onnxPath, string vocabPath, string outputFolder)
    {
        if (!File.Exists(onnxPath))
            throw CliException.Model($"--onnx: file '{onnxPath}' was not found.");
        if (!File.Exists(vocabPath))
            throw CliException.Model($"--vocab: file '{vocabPath}' was not found.");
        return CliException.Wrap(ExitCodes.ModelError, $"importing ONNX '{onnxPath}' with vocabulary '{vocabPath}'", () =>
        {
            using FileStream onnx = File.OpenRead(onnxPath);
            using FileStream vocab = File.OpenRead(vocabPath);
            return OnnxEncoderImport.ToHuggingFaceFolder(onnx, vocab, outputFolder);
        });
    }
}
