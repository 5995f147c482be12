using Microsoft.ML.PTuning.Cli;
using Microsoft.ML.PTuning.Tests.Pipeline;

namespace Microsoft.ML.PTuning.Tests.Cli;

/// <summary>Runs <c>ptuning</c> in-process on captured streams, and writes the tiny data files it reads.</summary>
public static class CliRunner
{
    public static CliResult Run(params string[] args) => Run(stdin: "", CancellationToken.None, args);

    public static CliResult Run(string stdin, CancellationToken cancellation, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = PTuningCli.Run(args, new CliEnvironment(stdout, stderr, new StringReader(stdin), cancellation));
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>A "Text,Label" CSV of <paramref name="rows"/>.</summary>
    public static string WriteCsv(string folder, string name, IEnumerable<TextRow> rows)
    {
        string path = Path.Combine(folder, name);
        File.WriteAllLines(path, new[] { "Text,Label" }.Concat(rows.Select(r => $"{r.Sentence1},{r.Label}")));
        return path;
    }

    /// <summary>A CoNLL file of <paramref name="rows"/>: "word tag" lines, a blank line after each sentence.</summary>
    public static string WriteConll(string folder, string name, IEnumerable<TokenRow> rows)
    {
        string path = Path.Combine(folder, name);
        File.WriteAllLines(path, rows.SelectMany(r => r.Sentence!.Split(' ').Zip(r.Tags, (w, t) => $"{w} {t}").Append("")));
        return path;
    }

    /// <summary>The options that make a tiny fit learn in seconds (as <see cref="TinyData.TextOptions"/>).</summary>
    public static readonly string[] FastTraining =
        ["--prefix-length", "4", "--max-length", "32", "--batch-size", "8", "--learning-rate", "0.03", "--seed", "7"];
}
