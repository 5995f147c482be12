using Microsoft.ML.Data;

namespace Microsoft.ML.PTuning.Data;

/// <summary>
/// Loads a CSV file whose first column is a text and second a label (banking77's <c>text,category</c>, the samples'
/// <c>text,intent</c>) with ML.NET's own <see cref="TextLoader"/>, set up for real-world quoting.
/// </summary>
/// <remarks>
/// The file has a header line. A text holding a comma is quoted, a quote inside it is doubled, and a quoted text may
/// span lines. The last point is why this helper exists: the short <c>LoadFromTextFile(path, separatorChar: ',',
/// hasHeader: true, allowQuoting: true)</c> overloads lack <see cref="TextLoader.Options.ReadMultilines"/>, and without
/// it banking77's training file, some of whose texts hold line breaks, reads as the wrong number of rows.
/// </remarks>
public static class TextLabelCsv
{
    /// <summary>Loader options for such a file: the first column as text <paramref name="textColumnName"/>, the second as text <paramref name="labelColumnName"/>.</summary>
    public static TextLoader.Options Options(string textColumnName = "Text", string labelColumnName = "Label")
    {
        ArgumentException.ThrowIfNullOrEmpty(textColumnName);
        ArgumentException.ThrowIfNullOrEmpty(labelColumnName);
        return new TextLoader.Options
        {
            Separators = new[] { ',' },
            HasHeader = true,
            AllowQuoting = true,
            ReadMultilines = true,
            Columns = new[]
            {
                new TextLoader.Column(textColumnName, DataKind.String, 0),
                new TextLoader.Column(labelColumnName, DataKind.String, 1),
            },
        };
    }

    /// <summary>
    /// Checks the file, then loads it as a data view with a text column and a label column (the label still text; map it
    /// to a key to train). The check reads the file once with the same quoting rules and fails on the first record that
    /// is not a text and a non-empty label, where TextLoader alone would load an empty label, drop extra columns, or fail
    /// on an unterminated quote without saying where.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">A record (the header included) has other than two columns, an empty label,
    /// text after a closing quote, or a quote that is never closed; the message names the file, the 1-based line where
    /// the record starts, and what was expected.</exception>
    public static IDataView Load(MLContext mlContext, string path, string textColumnName = "Text", string labelColumnName = "Label")
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"CSV file '{path}' was not found.", path);
        }

        CsvRecordCheck.Check(path);
        return mlContext.Data.LoadFromTextFile(path, Options(textColumnName, labelColumnName));
    }
}
