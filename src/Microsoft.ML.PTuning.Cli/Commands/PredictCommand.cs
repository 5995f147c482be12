using System.ComponentModel;
using Microsoft.ML.PTuning.Cli.Data;
using Microsoft.ML.PTuning.Cli.Models;
using Microsoft.ML.PTuning.Cli.Output;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Microsoft.ML.PTuning.Cli.Commands;

/// <summary><c>ptuning predict</c>: a model zip over a file or stdin, to a file or stdout (which then carries only the predictions).</summary>
internal sealed class PredictCommand : Command<PredictCommand.Settings>
{
    /// <summary>The options of <c>predict</c>.</summary>
    public sealed class Settings : InputSettings
    {
        [CommandOption("--model <ZIP>")]
        [Description("The model zip (from 'ptuning train' or 'ptuning sweep').")]
        public string? Model { get; init; }

        [CommandOption("-i|--input <FILE>")]
        [Description("Texts to predict: CSV (--text-column), CoNLL (NER), or one text per line; '-' reads stdin.")]
        [DefaultValue("-")]
        public string Input { get; init; } = "-";

        [CommandOption("-o|--output <FILE>")]
        [Description("Where predictions go; '-' is stdout, which then carries nothing but the predictions.")]
        [DefaultValue("-")]
        public string Output { get; init; } = "-";

        [CommandOption("--output-format <FORMAT>")]
        [Description("csv or jsonl; by default jsonl for .json/.jsonl/.ndjson outputs, else csv.")]
        [DefaultValue(OutputFormat.Auto)]
        public OutputFormat OutputFormat { get; init; }
    }

    /// <inheritdoc/>
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var environment = (CliEnvironment)context.Data!;
        bool toStdout = InputFiles.IsStdio(settings.Output);
        string input = InputFiles.IsStdio(settings.Input) ? InputFiles.StdIn : InputFiles.RequireFile(settings.Input, "--input");
        var mlContext = new MLContext(seed: 1);
        LoadedModel model = LoadedModel.Load(mlContext, settings.Model);
        if (model.ReadsPairs && settings.Text2Column is null)
            throw CliException.Usage($"model '{settings.Model}' reads sentence pairs: name the second text's column with --text2-column (CSV input).");
        DataFormat format = InputFiles.Resolve(settings.Format, input, model.Task, labeled: false);
        if (format == DataFormat.Conll && model.Task != CliTask.Ner)
            throw CliException.Usage($"'{input}' is read as CoNLL, which holds words for NER; this is a text classification model (--format csv or lines).");
        IDataView rows = InputFiles.LoadUnlabeled(mlContext, input, format, new TextColumnNames(settings.TextColumn, settings.Text2Column, ""), environment.StdIn);

        OutputFormat outputFormat = settings.OutputFormat != OutputFormat.Auto ? settings.OutputFormat
            : Path.GetExtension(settings.Output).ToLowerInvariant() is ".json" or ".jsonl" or ".ndjson" ? OutputFormat.Jsonl : OutputFormat.Csv;
        string target = toStdout ? "stdout" : settings.Output;
        int count;
        if (toStdout)
        {
            count = Write(model, rows, input, outputFormat, environment.StdOut);
            environment.StdOut.Flush();
        }
        else
        {
            // Written beside the target and renamed, so a failed run leaves no half-written file.
            string full = Path.GetFullPath(settings.Output);
            string partial = full + ".partial";
            try
            {
                using (var writer = CliException.Wrap(ExitCodes.DataError, $"--output '{settings.Output}'", () => new StreamWriter(partial)))
                    count = Write(model, rows, input, outputFormat, writer);
                File.Move(partial, full, overwrite: true);
            }
            finally
            {
                File.Delete(partial);
            }
        }
        environment.Status(stdoutCarriesData: toStdout).WriteLine($"Predicted {count} row(s) to {target}.");
        return ExitCodes.Success;
    }

    private static int Write(LoadedModel model, IDataView rows, string input, OutputFormat format, TextWriter writer) =>
        CliException.Wrap(ExitCodes.DataError, $"predicting '{(input == InputFiles.StdIn ? "stdin" : input)}' with '{model.Path}'",
            () => PredictionWriter.Write(model.Model.Transform(rows), model, format, writer));
}
