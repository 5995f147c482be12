using Microsoft.ML.Data;
using Microsoft.ML.PTuning.Data;

namespace Microsoft.ML.PTuning.Cli.Data;

/// <summary>
/// Reads the users' files into data views with the tool's own column names (<see cref="DataColumns"/>): CSV through the
/// library's <see cref="TextLabelCsv"/>, CoNLL through <see cref="ConllReader"/>, plain lines. Every failure is a
/// <see cref="CliException"/> with <see cref="ExitCodes.DataError"/> naming the file, and the column or option.
/// </summary>
internal static class InputFiles
{
    /// <summary>The standard-input (or output) stand-in for a file name.</summary>
    public const string StdIn = "-";

    /// <summary>
    /// What a "-" argument becomes before parsing: Spectre.Console.Cli reads a lone "-" as an option without a name.
    /// </summary>
    public const string StdioArgument = "<stdio>";

    /// <summary>True for "-" (a default value) and for a "-" typed on the command line.</summary>
    public static bool IsStdio(string? path) => path is StdIn or StdioArgument;

    /// <summary>The format of <paramref name="path"/>: <paramref name="format"/> unless Auto, else by extension, else the task's own.</summary>
    public static DataFormat Resolve(DataFormat format, string path, CliTask task, bool labeled)
    {
        if (format != DataFormat.Auto)
            return format;
        string extension = IsStdio(path) ? "" : Path.GetExtension(path).ToLowerInvariant();
        return extension switch
        {
            ".csv" => DataFormat.Csv,
            ".conll" or ".iob" or ".bio" or ".conll03" => DataFormat.Conll,
            _ when labeled => task == CliTask.Ner ? DataFormat.Conll : DataFormat.Csv,
            _ => DataFormat.Lines,
        };
    }

    /// <summary>The full path of an existing input file, else a data error naming the option.</summary>
    public static string RequireFile(string? path, string option)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw CliException.Usage($"{option} is required.");
        if (!File.Exists(path))
            throw CliException.InputData($"{option}: file '{path}' was not found.");
        return Path.GetFullPath(path);
    }

    /// <summary>
    /// A labeled CSV file as a view with <see cref="DataColumns.Text"/>, optionally <see cref="DataColumns.Text2"/>, and
    /// <see cref="DataColumns.LabelText"/>, all text, picked from the header by name.
    /// </summary>
    public static IDataView LoadLabeledCsv(MLContext mlContext, string path, TextColumnNames names)
    {
        string[] header = ReadHeader(path);
        int text = ColumnIndex(header, names.Text, "--text-column", path);
        int? text2 = names.Text2 is null ? null : ColumnIndex(header, names.Text2, "--text2-column", path);
        int label = ColumnIndex(header, names.Label, "--label-column", path);
        if (header.Length == 2 && text == 0 && label == 1)
        {
            // The file is exactly text,label: the library's loader checks every record (quotes, field count, empty labels).
            return CliException.Wrap(ExitCodes.DataError, $"CSV file '{path}'", () => TextLabelCsv.Load(mlContext, path, DataColumns.Text, DataColumns.LabelText));
        }

        var columns = new List<TextLoader.Column> { new(DataColumns.Text, DataKind.String, text), new(DataColumns.LabelText, DataKind.String, label) };
        if (text2 is int second)
            columns.Add(new TextLoader.Column(DataColumns.Text2, DataKind.String, second));
        return LoadCsv(mlContext, path, columns);
    }

    /// <summary>A CoNLL file as a view of <see cref="EntityRow"/>s (<see cref="DataColumns.Text"/>, <see cref="DataColumns.Tags"/>).</summary>
    public static IDataView LoadConll(MLContext mlContext, string path) =>
        mlContext.Data.LoadFromEnumerable(ReadConll(path));

    /// <summary>The sentences of a CoNLL file, checked: at least one, and no word with white space inside.</summary>
    public static List<EntityRow> ReadConll(string path)
    {
        var rows = CliException.Wrap(ExitCodes.DataError, $"CoNLL file '{path}'", () => ConllReader.Read(path).ToList());
        if (rows.Count == 0)
            throw CliException.InputData($"CoNLL file '{path}' holds no sentence: expected 'token tag' lines, sentences separated by blank lines.");
        for (int i = 0; i < rows.Count; i++)
        {
            if (rows[i].Tokens.FirstOrDefault(t => t.Any(char.IsWhiteSpace)) is string word)
                throw CliException.InputData($"CoNLL file '{path}', sentence {i + 1}: the word '{word}' holds white space; words are split on white space.");
        }
        return rows.Select(r => new EntityRow { Text = string.Join(' ', r.Tokens), Tags = r.Tags }).ToList();
    }

    /// <summary>
    /// Texts to predict: a CSV file's text column(s), a CoNLL file's sentences (tags ignored), or one text per non-blank
    /// line of a file or of stdin.
    /// </summary>
    public static IDataView LoadUnlabeled(MLContext mlContext, string path, DataFormat format, TextColumnNames names, TextReader stdin)
    {
        switch (format)
        {
            case DataFormat.Csv:
                if (IsStdio(path))
                    throw CliException.Usage("--format csv needs an --input file; stdin is read as one text per line (--format lines).");
                string[] header = ReadHeader(path);
                var columns = new List<TextLoader.Column> { new(DataColumns.Text, DataKind.String, ColumnIndex(header, names.Text, "--text-column", path)) };
                if (names.Text2 is string second)
                    columns.Add(new TextLoader.Column(DataColumns.Text2, DataKind.String, ColumnIndex(header, second, "--text2-column", path)));
                return LoadCsv(mlContext, path, columns);
            case DataFormat.Conll:
                if (IsStdio(path))
                    throw CliException.Usage("--format conll needs an --input file; stdin is read as one text per line (--format lines).");
                return mlContext.Data.LoadFromEnumerable(ReadConll(path).Select(r => new TextRow { Text = r.Text }).ToList());
            default:
                if (names.Text2 is not null)
                    throw CliException.Usage("--text2-column needs CSV input (--format csv): one text per line holds no pair.");
                var lines = new List<TextRow>();
                TextReader reader = IsStdio(path) ? stdin : CliException.Wrap(ExitCodes.DataError, $"input file '{path}'", () => (TextReader)File.OpenText(path));
                try
                {
                    while (reader.ReadLine() is string line)
                    {
                        if (!string.IsNullOrWhiteSpace(line))
                            lines.Add(new TextRow { Text = line.Trim() });
                    }
                }
                finally
                {
                    if (!IsStdio(path))
                        reader.Dispose();
                }
                return mlContext.Data.LoadFromEnumerable(lines);
        }
    }

    private static IDataView LoadCsv(MLContext mlContext, string path, List<TextLoader.Column> columns)
    {
        TextLoader.Options options = TextLabelCsv.Options();
        options.Columns = columns.ToArray();
        return CliException.Wrap(ExitCodes.DataError, $"CSV file '{path}'", () => mlContext.Data.LoadFromTextFile(path, options));
    }

    /// <summary>The header row's field names (quotes removed).</summary>
    internal static string[] ReadHeader(string path)
    {
        string? line = CliException.Wrap(ExitCodes.DataError, $"CSV file '{path}'", () =>
        {
            using var reader = File.OpenText(path);
            return reader.ReadLine();
        });
        if (string.IsNullOrWhiteSpace(line))
            throw CliException.InputData($"CSV file '{path}' is empty: expected a header row naming its columns.");
        return SplitHeader(line.TrimStart('\uFEFF'));
    }

    /// <summary>Splits one CSV line on commas outside double quotes; "" inside quotes is a quote.</summary>
    internal static string[] SplitHeader(string line)
    {
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString().Trim());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }
        fields.Add(field.ToString().Trim());
        return fields.ToArray();
    }

    private static int ColumnIndex(string[] header, string name, string option, string path)
    {
        int index = Array.IndexOf(header, name);
        if (index < 0)
            index = Array.FindIndex(header, h => string.Equals(h, name, StringComparison.OrdinalIgnoreCase));
        if (index < 0)
            throw CliException.InputData($"CSV file '{path}' has no column '{name}' ({option}); its header names: {string.Join(", ", header.Select(h => $"'{h}'"))}.");
        return index;
    }
}
