using System.ComponentModel;
using Microsoft.ML.PTuning.Cli.Data;
using Spectre.Console.Cli;

namespace Microsoft.ML.PTuning.Cli.Commands;

/// <summary>How the verbs that read texts find them: the file format and the CSV text columns.</summary>
internal class InputSettings : CliSettings
{
    [CommandOption("--format <FORMAT>")]
    [Description("csv, conll or lines (predict only); by default from the extension (.csv, .conll), else csv for text and conll for ner (predict: lines).")]
    [DefaultValue(DataFormat.Auto)]
    public DataFormat Format { get; init; }

    [CommandOption("--text-column <NAME>")]
    [Description("CSV column holding the text.")]
    [DefaultValue("Text")]
    public string TextColumn { get; init; } = "Text";

    [CommandOption("--text2-column <NAME>")]
    [Description("CSV column holding the second text of sentence pairs.")]
    public string? Text2Column { get; init; }
}
