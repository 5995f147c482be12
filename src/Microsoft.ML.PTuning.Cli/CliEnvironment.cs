using Spectre.Console;

namespace Microsoft.ML.PTuning.Cli;

/// <summary>
/// What a command talks to: the consoles for stdout (reports, tables, progress) and stderr (errors), the raw streams
/// for predictions (nothing but data goes to stdout when predicting to it), and the Ctrl+C token.
/// </summary>
internal sealed class CliEnvironment
{
    public CliEnvironment(TextWriter stdout, TextWriter stderr, TextReader stdin, CancellationToken cancellation, bool interactive = false)
    {
        StdOut = stdout;
        StdErr = stderr;
        StdIn = stdin;
        Cancellation = cancellation;
        Out = CreateConsole(stdout, interactive);
        Error = CreateConsole(stderr, interactive);
    }

    /// <summary>The report console (stdout).</summary>
    public IAnsiConsole Out { get; }

    /// <summary>The diagnostics console (stderr).</summary>
    public IAnsiConsole Error { get; }

    public TextWriter StdOut { get; }

    public TextWriter StdErr { get; }

    public TextReader StdIn { get; }

    /// <summary>Set by Ctrl+C; handed to the library as the options' CancellationToken.</summary>
    public CancellationToken Cancellation { get; }

    /// <summary>The console that tells what a command is doing: stderr when stdout carries predictions, else stdout.</summary>
    public IAnsiConsole Status(bool stdoutCarriesData) => stdoutCarriesData ? Error : Out;

    /// <summary>
    /// A Spectre console over <paramref name="writer"/>; colours and live progress only on an interactive terminal, so
    /// that redirected output (CI logs, pipes, tests) gets plain lines.
    /// </summary>
    private static IAnsiConsole CreateConsole(TextWriter writer, bool interactive)
    {
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!interactive)
            console.Profile.Width = PlainWidth; // a log line is never wrapped
        return console;
    }

    private const int PlainWidth = 4096;
}
