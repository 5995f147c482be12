namespace Microsoft.ML.PTuning.Tests.Cli;

/// <summary>What one run of the tool printed and returned.</summary>
public sealed record CliResult(int ExitCode, string StdOut, string StdErr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{StdOut}\nstderr:\n{StdErr}";
}
