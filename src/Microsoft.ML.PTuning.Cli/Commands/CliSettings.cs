using System.ComponentModel;
using Spectre.Console.Cli;

namespace Microsoft.ML.PTuning.Cli.Commands;

/// <summary>Options every verb takes.</summary>
internal class CliSettings : CommandSettings
{
    [CommandOption("-v|--verbose")]
    [Description("On failure, print the stack trace after the one-line error.")]
    public bool Verbose { get; init; }
}
