using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Microsoft.ML.PTuning.Cli.Commands;

/// <summary><c>ptuning import-onnx</c>: an ONNX encoder and its vocab.txt as a Hugging Face folder (the library's <see cref="OnnxEncoderImport"/>).</summary>
internal sealed class ImportOnnxCommand : Command<ImportOnnxCommand.Settings>
{
    /// <summary>The options of <c>import-onnx</c>.</summary>
    public sealed class Settings : CliSettings
    {
        [CommandOption("--onnx <FILE>")]
        [Description("The encoder exported to ONNX, weights embedded (e.g. all-MiniLM-L6-v2's model.onnx).")]
        public string? Onnx { get; init; }

        [CommandOption("--vocab <FILE>")]
        [Description("Its WordPiece vocabulary (vocab.txt).")]
        public string? Vocab { get; init; }

        [CommandOption("-o|--output <FOLDER>")]
        [Description("The Hugging Face folder to write; it must not exist, or be empty.")]
        public string? Output { get; init; }

        /// <inheritdoc/>
        public override ValidationResult Validate()
        {
            if (Onnx is null || Vocab is null || Output is null)
                return ValidationResult.Error("import-onnx needs --onnx <FILE>, --vocab <FILE> and --output <FOLDER>.");
            return base.Validate();
        }
    }

    /// <inheritdoc/>
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var environment = (CliEnvironment)context.Data!;
        string target = Path.GetFullPath(settings.Output!);
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
            throw CliException.Usage($"--output: folder '{settings.Output}' already exists and is not empty.");
        string folder = OnnxImport.Run(settings.Onnx!, settings.Vocab!, target);
        environment.Out.WriteLine($"Imported {settings.Onnx} as a Hugging Face folder: {folder}");
        foreach (string file in Directory.GetFiles(folder).Order(StringComparer.Ordinal))
            environment.Out.WriteLine($"  {Path.GetFileName(file)} ({new FileInfo(file).Length:N0} bytes)");
        return ExitCodes.Success;
    }
}
