using System.Text.Encodings.Web;
using System.Text.Json;

namespace Microsoft.ML.PTuning.Cli.Output;

/// <summary>The tool's JSON: camelCase names, non-ASCII text kept readable.</summary>
internal static class JsonOutput
{
    public static readonly JsonSerializerOptions Line = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static readonly JsonSerializerOptions Indented = new(Line) { WriteIndented = true };

    /// <summary>Writes <paramref name="value"/> indented to <paramref name="path"/>, or to <paramref name="stdout"/> when it is "-".</summary>
    public static void Write(object value, string path, TextWriter stdout)
    {
        string json = JsonSerializer.Serialize(value, Indented);
        if (Data.InputFiles.IsStdio(path))
        {
            stdout.WriteLine(json);
            return;
        }
        CliException.Wrap(ExitCodes.DataError, $"writing '{path}'", () =>
        {
            File.WriteAllText(path, json + Environment.NewLine);
            return path;
        });
    }
}
