namespace Microsoft.ML.PTuning.Data;

/// <summary>
/// Reads a text,label CSV file once with the quoting rules <see cref="TextLabelCsv"/> gives ML.NET's TextLoader
/// (comma-separated; a field that starts with a quote is quoted, may hold commas and line breaks, and writes a quote
/// inside it twice; empty lines and lines starting with <c>//</c> are skipped, <c>#</c> lines too before the header),
/// and fails on the first record that is not exactly two fields with a non-empty label. TextLoader itself reads a row
/// with one field as an empty label, drops fields past the second, and reports an unterminated quote as "Stream reading
/// encountered exception"; this check names the file, the 1-based line and what was expected instead.
/// </summary>
internal static class CsvRecordCheck
{
    private const int Columns = 2;

    /// <summary>Checks every record of <paramref name="path"/>, the header included.</summary>
    /// <exception cref="InvalidDataException">A record has another number of fields, an empty label, text after a closing
    /// quote, or a quote that is never closed.</exception>
    public static void Check(string path)
    {
        using var reader = new StreamReader(path, detectEncodingFromByteOrderMarks: true);
        int line = 0;
        bool header = true;
        while (reader.ReadLine() is string text)
        {
            line++;
            if (text.Length == 0 || text.StartsWith("//", StringComparison.Ordinal) || (header && text[0] == '#'))
            {
                continue;
            }
            CheckRecord(reader, path, ref line, text, header);
            header = false;
        }
    }

    // Reads one record that starts on line `line` (more lines when a quoted field spans them); `line` ends on its last line.
    private static void CheckRecord(StreamReader reader, string path, ref int line, string text, bool header)
    {
        int start = line;
        int fields = 0;
        bool lastEmpty = false;
        int i = 0;
        while (true)
        {
            fields++;
            int fieldStart = i;
            if (i < text.Length && text[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= text.Length)
                    {
                        string? next = reader.ReadLine();
                        if (next is null)
                        {
                            throw Error(path, start,
                                $"column {fields} opens a quote that is never closed (the file ends at line {line}); a quoted text ends with a " +
                                "quote, and a quote inside it is written twice (\"\")");
                        }
                        line++;
                        text = next;
                        i = 0;
                        fieldStart = -1;   // spans lines: not empty
                        continue;
                    }
                    if (text[i] == '"')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '"')
                        {
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    i++;
                }
                lastEmpty = fieldStart >= 0 && i - fieldStart == 2;
                if (i < text.Length && text[i] != ',')
                {
                    throw Error(path, line,
                        $"column {fields} has '{text[i]}' after its closing quote; expected a comma or the end of the line (a quote inside a quoted text is written twice: \"\")");
                }
            }
            else
            {
                while (i < text.Length && text[i] != ',')
                {
                    i++;
                }
                lastEmpty = i == fieldStart;
            }

            if (i >= text.Length)
            {
                break;
            }
            i++;   // the comma
        }

        if (fields != Columns)
        {
            throw Error(path, start,
                $"expected {Columns} comma-separated columns ({(header ? "the header's names" : "a text, then its label")}), found {fields}" +
                (fields > Columns ? "; quote a text that holds a comma (\"a, b\")" : ""));
        }
        if (!header && lastEmpty)
        {
            throw Error(path, start, "the label (column 2) is empty; every row needs a label");
        }
    }

    private static InvalidDataException Error(string path, int line, string what) =>
        new($"CSV file '{path}', line {line}: {what}.");
}
