using Microsoft.ML.PTuning.Cli.Commands;
using Microsoft.ML.PTuning.Cli.Data;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Microsoft.ML.PTuning.Cli;

/// <summary>The <c>ptuning</c> command line: its verbs, and the one place where failures become exit codes.</summary>
internal static class PTuningCli
{
    /// <summary>Parses <paramref name="args"/>, runs the verb and returns one of <see cref="ExitCodes"/>.</summary>
    public static int Run(string[] args, CliEnvironment environment)
    {
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("ptuning");
            config.ConfigureConsole(environment.Out);
            config.PropagateExceptions();
            config.UseStrictParsing();
            config.AddCommand<TrainCommand>("train")
                .WithData(environment)
                .WithDescription("Train a text classifier (CSV) or an entity tagger (CoNLL) and save it as a model zip.")
                .WithExample("train", "--data", "train.csv", "--text-column", "Text", "--label-column", "Label", "--base-model", "./roberta-base", "-o", "model.zip")
                .WithExample("train", "--task", "ner", "--data", "train.conll", "--onnx", "model.onnx", "--vocab", "vocab.txt", "-o", "ner.zip");
            config.AddCommand<EvaluateCommand>("evaluate")
                .WithData(environment)
                .WithDescription("Score a model zip on a labeled file: accuracy and log-loss, or entity precision/recall/F1.")
                .WithExample("evaluate", "--model", "model.zip", "--data", "test.csv", "--json", "metrics.json");
            config.AddCommand<PredictCommand>("predict")
                .WithData(environment)
                .WithDescription("Predict with a model zip: a file or stdin in, CSV or JSON lines to a file or stdout.")
                .WithExample("predict", "--model", "model.zip", "--input", "new.csv", "--output", "predictions.jsonl")
                .WithExample("predict", "--model", "model.zip", "--input", "-");
            config.AddCommand<SweepCommand>("sweep")
                .WithData(environment)
                .WithDescription("Sweep prefix lengths and learning rates over one loaded base model; report the trials, save the best model.")
                .WithExample("sweep", "--data", "train.csv", "--base-model", "./roberta-base", "--prefix-lengths", "4,16,64", "--learning-rates", "0.01,0.03");
            config.AddCommand<ImportOnnxCommand>("import-onnx")
                .WithData(environment)
                .WithDescription("Import a BERT/RoBERTa encoder exported to ONNX, with its vocab.txt, as a Hugging Face model folder.")
                .WithExample("import-onnx", "--onnx", "model.onnx", "--vocab", "vocab.txt", "-o", "./minilm");
        });

        bool verbose = args.Any(a => a is "--verbose" or "-v");
        string[] parsed = args.Select(a => a == InputFiles.StdIn ? InputFiles.StdioArgument : a).ToArray();
        try
        {
            int code = app.Run(parsed, environment.Cancellation);
            if (args.Length == 0 || args is ["-h" or "--help"])
                environment.Out.WriteLine(ExitCodes.Description);
            return code;
        }
        catch (Exception e) when (Cancelled(e, environment.Cancellation))
        {
            environment.Error.WriteLine("ptuning: cancelled.");
            return ExitCodes.Cancelled;
        }
        catch (Exception e)
        {
            (int code, string message) = Describe(e, args);
            // One line, never markup: messages hold paths and brackets.
            environment.StdErr.WriteLine($"ptuning: {message}");
            if (verbose)
                environment.StdErr.WriteLine(e.ToString());
            return code;
        }
    }

    private static bool Cancelled(Exception e, CancellationToken cancellation) =>
        CliException.Innermost(e) is OperationCanceledException || (cancellation.IsCancellationRequested && e is not CliException);

    /// <summary>The exit code and the one-line message of a failure.</summary>
    internal static (int Code, string Message) Describe(Exception e, string[] args)
    {
        Exception inner = CliException.Innermost(e);
        return inner switch
        {
            CliException cli => (cli.ExitCode, OneLine(cli.Message)),
            CommandAppException parse => (ExitCodes.UsageError, NameOption(OneLine(parse.Message), args) + $" (see '{HelpCommand(args)}')"),
            _ => (ExitCodes.InternalError, OneLine($"{inner.GetType().Name}: {inner.Message}") + " (run with --verbose for the stack trace)"),
        };
    }

    /// <summary>"Failed to convert 'x' to Int32." names no option; the option is the argument before the value.</summary>
    private static string NameOption(string message, string[] args)
    {
        const string Prefix = "Failed to convert '";
        if (!message.StartsWith(Prefix, StringComparison.Ordinal))
            return message;
        int end = message.IndexOf('\'', Prefix.Length);
        string value = end < 0 ? "" : message[Prefix.Length..end];
        int index = Array.IndexOf(args, value);
        return index > 0 && args[index - 1].StartsWith('-') ? $"{args[index - 1]}: {message}" : message;
    }

    private static string HelpCommand(string[] args) =>
        args.Length > 0 && Verbs.Contains(args[0]) ? $"ptuning {args[0]} --help" : "ptuning --help";

    private static readonly string[] Verbs = ["train", "evaluate", "predict", "sweep", "import-onnx"];

    private static string OneLine(string message) => string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
