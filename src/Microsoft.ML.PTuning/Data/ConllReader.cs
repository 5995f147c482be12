namespace Microsoft.ML.PTuning.Data;

/// <summary>
/// Reads token-classification data in CoNLL format: one token per line with its tag, sentences separated by blank
/// lines.
/// </summary>
/// <remarks>
/// <para>
/// A token line holds the token first and the tag last, separated by tabs, or by spaces when the line has no tab;
/// columns in between (CoNLL-2003's part-of-speech and chunk tags) are ignored. A line holding only spaces and tabs
/// ends a sentence like an empty line does; WNUT-17's training file separates its sentences with a line holding a
/// single tab. Other white space (a no-break space, a variation selector) is a token, as WNUT-17's dev and test
/// files have such tokens. <c>-DOCSTART-</c> lines end the current sentence and are skipped. Line ends may be LF
/// or CRLF; the file is read as UTF-8.
/// </para>
/// <para>
/// Sentences are read lazily, one at a time; a malformed line throws <see cref="InvalidDataException"/> naming the
/// file and the 1-based line number when the reading reaches it.
/// </para>
/// </remarks>
public static class ConllReader
{
    private const string DocumentStart = "-DOCSTART-";

    /// <summary>Reads the sentences of a CoNLL file.</summary>
    /// <param name="path">The file to read.</param>
    /// <returns>Each sentence's tokens and tags, of equal length, in file order; empty sentences are never returned.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist (thrown at once, not when enumerating).</exception>
    /// <exception cref="InvalidDataException">A line is not a token and a tag (thrown while enumerating).</exception>
    public static IEnumerable<(string[] Tokens, string[] Tags)> Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"CoNLL file '{path}' was not found.", path);
        }

        return ReadLines(path);
    }

    private static IEnumerable<(string[] Tokens, string[] Tags)> ReadLines(string path)
    {
        var tokens = new List<string>();
        var tags = new List<string>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (IsSeparator(line) || line.StartsWith(DocumentStart, StringComparison.Ordinal))
            {
                if (tokens.Count > 0)
                {
                    yield return (tokens.ToArray(), tags.ToArray());
                    tokens.Clear();
                    tags.Clear();
                }

                continue;
            }

            (string token, string tag) = ParseTokenLine(line, path, lineNumber);
            tokens.Add(token);
            tags.Add(tag);
        }

        if (tokens.Count > 0)
        {
            yield return (tokens.ToArray(), tags.ToArray());
        }
    }

    private static bool IsSeparator(string line)
    {
        foreach (char c in line)
        {
            if (c is not (' ' or '\t' or '\r'))
            {
                return false;
            }
        }

        return true;
    }

    private static (string Token, string Tag) ParseTokenLine(string line, string path, int lineNumber)
    {
        string content = line.TrimEnd('\r');
        // With tabs the first field is the token even when empty (that is an error); with spaces, runs of spaces are one separator.
        string[] fields = content.Contains('\t')
            ? content.Split('\t').Select(f => f.Trim(' ')).ToArray()
            : content.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string token = fields[0];
        string tag = fields.Skip(1).LastOrDefault(f => f.Length > 0) ?? "";
        if (token.Length == 0 || tag.Length == 0)
        {
            string shown = content.Length > 80 ? content[..80] + "..." : content;
            throw new InvalidDataException(
                $"CoNLL file '{path}', line {lineNumber}: expected a token and a tag separated by a tab or spaces, found '{shown.Replace("\t", "\\t")}'.");
        }

        return (token, tag);
    }
}
