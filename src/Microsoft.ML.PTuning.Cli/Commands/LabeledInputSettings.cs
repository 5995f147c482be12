using System.ComponentModel;
using Microsoft.ML.PTuning.Cli.Data;
using Spectre.Console.Cli;

namespace Microsoft.ML.PTuning.Cli.Commands;

/// <summary>The input options of the verbs that read labels (train, sweep, evaluate).</summary>
internal class LabeledInputSettings : InputSettings
{
    [CommandOption("--label-column <NAME>")]
    [Description("CSV column holding the label.")]
    [DefaultValue("Label")]
    public string LabelColumn { get; init; } = "Label";

    /// <summary>The CSV column names asked for.</summary>
    public TextColumnNames ColumnNames => new(TextColumn, Text2Column, LabelColumn);
}
