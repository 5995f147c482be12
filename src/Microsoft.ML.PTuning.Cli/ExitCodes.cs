namespace Microsoft.ML.PTuning.Cli;

/// <summary>The exit codes of <c>ptuning</c>, documented in its help and the README so that scripts can rely on them.</summary>
internal static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Success = 0;

    /// <summary>The command line is wrong: an unknown verb or option, a missing or malformed value, a value out of range.</summary>
    public const int UsageError = 1;

    /// <summary>An input file is missing or unreadable, or its content is wrong (a CSV record, a CoNLL line, a column, a label).</summary>
    public const int DataError = 2;

    /// <summary>A model could not be read, imported or used: a base model folder, an ONNX file, a model zip.</summary>
    public const int ModelError = 3;

    /// <summary>Anything else (a bug, or the machine ran out of something); the message says what happened.</summary>
    public const int InternalError = 4;

    /// <summary>Cancelled with Ctrl+C (128 + SIGINT, as shells report it).</summary>
    public const int Cancelled = 130;

    /// <summary>The table printed by <c>ptuning --help</c> and the README.</summary>
    public const string Description =
        "Exit codes: 0 ok, 1 usage error, 2 input/data error, 3 model error, 4 internal error, 130 cancelled (Ctrl+C).";
}
