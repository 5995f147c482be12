namespace Microsoft.ML.PTuning.Cli;

/// <summary>A failure the tool reports as one line on stderr and ends with <see cref="ExitCode"/>.</summary>
internal sealed class CliException : Exception
{
    public CliException(int exitCode, string message, Exception? inner = null)
        : base(message, inner)
    {
        ExitCode = exitCode;
    }

    /// <summary>One of <see cref="ExitCodes"/>.</summary>
    public int ExitCode { get; }

    public static CliException Usage(string message) => new(ExitCodes.UsageError, message);

    public static CliException InputData(string message, Exception? inner = null) => new(ExitCodes.DataError, message, inner);

    public static CliException Model(string message, Exception? inner = null) => new(ExitCodes.ModelError, message, inner);

    /// <summary>
    /// Runs <paramref name="action"/>, turning what the library throws for bad input into a <see cref="CliException"/>
    /// with <paramref name="exitCode"/>, the message prefixed by <paramref name="context"/> (the file or model at hand).
    /// Cancellation and the tool's own failures pass through unchanged.
    /// </summary>
    public static T Wrap<T>(int exitCode, string context, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (IsInputFailure(e))
        {
            throw new CliException(exitCode, $"{context}: {Innermost(e).Message}", e);
        }
    }

    /// <summary>Exceptions that describe bad input, not a bug: what the library and ML.NET throw for files, columns and values.</summary>
    public static bool IsInputFailure(Exception e) =>
        Innermost(e) is IOException or InvalidDataException or FormatException or InvalidOperationException or ArgumentException
            or NotSupportedException or UnauthorizedAccessException or System.Text.Json.JsonException;

    /// <summary>The exception that says what went wrong: ML.NET's loader wraps what a model's Create throws.</summary>
    public static Exception Innermost(Exception e)
    {
        while (e is System.Reflection.TargetInvocationException or AggregateException && e.InnerException is { } inner)
            e = inner;
        return e;
    }
}
