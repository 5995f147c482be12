using System.ComponentModel;
using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.PTuning.Cli.Data;
using Microsoft.ML.PTuning.Cli.Models;
using Microsoft.ML.PTuning.Cli.Output;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Microsoft.ML.PTuning.Cli.Commands;

/// <summary><c>ptuning evaluate</c>: a model zip on a labeled file; metrics as a table and optionally as JSON.</summary>
internal sealed class EvaluateCommand : Command<EvaluateCommand.Settings>
{
    /// <summary>The options of <c>evaluate</c>.</summary>
    public sealed class Settings : LabeledInputSettings
    {
        [CommandOption("--model <ZIP>")]
        [Description("The model zip (from 'ptuning train' or 'ptuning sweep').")]
        public string? Model { get; init; }

        [CommandOption("-d|--data <FILE>")]
        [Description("Labeled data: CSV with a header for text models, CoNLL for NER models.")]
        public string? Data { get; init; }

        [CommandOption("--json <FILE>")]
        [Description("Also write the metrics as JSON to FILE ('-': to stdout instead of the table).")]
        public string? Json { get; init; }
    }

    /// <inheritdoc/>
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var environment = (CliEnvironment)context.Data!;
        string data = InputFiles.RequireFile(settings.Data, "--data");
        var mlContext = new MLContext(seed: 1);
        LoadedModel model = LoadedModel.Load(mlContext, settings.Model);
        if (model.ReadsPairs && settings.Text2Column is null)
            throw CliException.Usage($"model '{settings.Model}' reads sentence pairs: name the second text's column with --text2-column.");
        DataFormat format = InputFiles.Resolve(settings.Format, data, model.Task, labeled: true);
        if (format == DataFormat.Lines || (format == DataFormat.Conll) != (model.Task == CliTask.Ner))
            throw CliException.Usage($"'{data}' is read as {format}; a {TrainCommand.TaskName(model.Task)} model is evaluated on {(model.Task == CliTask.Ner ? "CoNLL" : "CSV")} (--format).");

        object metrics = model.Task == CliTask.Ner
            ? EvaluateEntities(mlContext, model, data)
            : EvaluateText(mlContext, model, data, settings.ColumnNames);
        if (settings.Json is string json)
            JsonOutput.Write(metrics, json, environment.StdOut);
        if (!InputFiles.IsStdio(settings.Json))
            Print(environment.Out, metrics);
        return ExitCodes.Success;
    }

    private static TextMetricsReport EvaluateText(MLContext mlContext, LoadedModel model, string data, TextColumnNames names)
    {
        IDataView rows = InputFiles.LoadLabeledCsv(mlContext, data, names);
        IReadOnlyList<string> classes = model.PrefixTuning.ClassNames
            ?? throw CliException.Model($"model zip '{model.Path}' records no class names, so the file's labels cannot be matched to its classes.");
        var known = classes.ToHashSet(StringComparer.Ordinal);
        string[] labels = CliException.Wrap(ExitCodes.DataError, $"CSV file '{data}'",
            () => rows.GetColumn<ReadOnlyMemory<char>>(DataColumns.LabelText).Select(l => l.ToString()).ToArray());
        if (labels.Length == 0)
            throw CliException.InputData($"CSV file '{data}' has no rows to evaluate.");
        for (int i = 0; i < labels.Length; i++)
        {
            if (!known.Contains(labels[i]))
            {
                throw CliException.InputData($"CSV file '{data}', row {i + 1}: label '{labels[i]}' (--label-column '{names.Label}') is not one of the model's " +
                    $"{classes.Count} classes: {string.Join(", ", classes.Take(20))}{(classes.Count > 20 ? ", ..." : "")}.");
            }
        }

        IDataView keyData = mlContext.Data.LoadFromEnumerable(classes.Select(c => new TextRow { Text = c }));
        var toKey = mlContext.Transforms.Conversion.MapValueToKey(DataColumns.Label, DataColumns.LabelText, keyData: keyData).Fit(rows);
        var result = CliException.Wrap(ExitCodes.ModelError, $"model zip '{model.Path}' on '{data}'", () =>
        {
            IDataView scored = model.Model.Transform(toKey.Transform(rows));
            return mlContext.MulticlassClassification.Evaluate(scored, DataColumns.Label, DataColumns.Score, DataColumns.PredictedLabel);
        });
        return new TextMetricsReport("text", labels.Length, result.MicroAccuracy, result.MacroAccuracy, result.LogLoss, result.LogLossReduction,
            classes.Select((c, i) => new ClassMetric(c, result.PerClassLogLoss.Count > i ? result.PerClassLogLoss[i] : double.NaN)).ToArray());
    }

    private static EntityMetricsReport EvaluateEntities(MLContext mlContext, LoadedModel model, string data)
    {
        List<EntityRow> sentences = InputFiles.ReadConll(data);
        IDataView rows = mlContext.Data.LoadFromEnumerable(sentences);
        EntityMetrics metrics = CliException.Wrap(ExitCodes.ModelError, $"model zip '{model.Path}' on '{data}'",
            () => mlContext.MulticlassClassification.EvaluateEntities(model.Model.Transform(rows), DataColumns.Tags, DataColumns.PredictedLabel));
        return new EntityMetricsReport("ner", sentences.Count, metrics.Precision, metrics.Recall, metrics.F1, metrics.MacroF1, metrics.TokenAccuracy,
            metrics.PerEntityType.OrderBy(p => p.Key, StringComparer.Ordinal)
                .Select(p => new EntityTypeReport(p.Key, p.Value.Precision, p.Value.Recall, p.Value.F1, p.Value.Support)).ToArray());
    }

    private static void Print(IAnsiConsole console, object metrics)
    {
        var table = new Table().AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
        static string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
        switch (metrics)
        {
            case TextMetricsReport t:
                table.AddRow("rows", t.Rows.ToString(CultureInfo.InvariantCulture));
                table.AddRow("micro accuracy", F(t.MicroAccuracy));
                table.AddRow("macro accuracy", F(t.MacroAccuracy));
                table.AddRow("log-loss", F(t.LogLoss));
                table.AddRow("log-loss reduction", F(t.LogLossReduction));
                break;
            case EntityMetricsReport e:
                table.AddRow("sentences", e.Sentences.ToString(CultureInfo.InvariantCulture));
                table.AddRow("entity precision", F(e.Precision));
                table.AddRow("entity recall", F(e.Recall));
                table.AddRow("entity F1", F(e.F1));
                table.AddRow("entity macro F1", F(e.MacroF1));
                table.AddRow("token accuracy", F(e.TokenAccuracy));
                foreach (EntityTypeReport type in e.PerEntityType)
                    table.AddRow(Markup.Escape($"F1 {type.Type} (support {type.Support})"), F(type.F1));
                break;
        }
        console.Write(table);
    }
}
