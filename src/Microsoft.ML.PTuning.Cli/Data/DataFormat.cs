namespace Microsoft.ML.PTuning.Cli.Data;

/// <summary>The file formats the verbs read (<c>--format</c>).</summary>
internal enum DataFormat
{
    /// <summary>By the file's extension: .csv is CSV, .conll/.iob/.bio CoNLL, anything else (and stdin) one text per line.</summary>
    Auto,

    /// <summary>A CSV file with a header row; columns are picked by name.</summary>
    Csv,

    /// <summary>CoNLL: one "token tag" line per word, a blank line between sentences.</summary>
    Conll,

    /// <summary>One text per line (words split on white space for NER); for predict only.</summary>
    Lines,
}
