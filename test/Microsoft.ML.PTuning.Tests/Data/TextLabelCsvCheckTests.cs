using Microsoft.ML.Data;
using Microsoft.ML.PTuning.Data;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Data;

/// <summary>
/// <see cref="TextLabelCsv.Load"/> refuses records that ML.NET's TextLoader would read wrongly or fail on without a
/// place: the error names the file, the 1-based line where the record starts, and what was expected.
/// </summary>
public class TextLabelCsvCheckTests
{
    private static string Write(string content)
    {
        string path = Path.Combine(TestPaths.NewTempFolder("csv-check"), "data.csv");
        File.WriteAllText(path, content);
        return path;
    }

    private static void Refused(string content, int line, string expected)
    {
        string path = Write(content);
        var error = Assert.Throws<InvalidDataException>(() => TextLabelCsv.Load(new MLContext(seed: 1), path));
        Assert.Contains($"'{path}', line {line}:", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void ARowWithOneColumnIsRefused()
    {
        Refused("text,label\nfine,a\njust a text\nalso fine,b\n", 3, "expected 2 comma-separated columns (a text, then its label), found 1");
    }

    [Fact]
    public void ARowWithMoreThanTwoColumnsIsRefusedWithAHintToQuote()
    {
        Refused("text,label\nfine,a\nhi, I lost my card,card,extra\n", 3, "found 4; quote a text that holds a comma");
        Refused("text,label\nfine,a,\n", 2, "found 3");
    }

    [Fact]
    public void AnUnterminatedQuoteIsRefusedAtTheLineItOpens()
    {
        Refused("text,label\nfine,a\n\"never closed,b\nmore,c\nlast,d\n", 3, "column 1 opens a quote that is never closed (the file ends at line 5)");
    }

    [Fact]
    public void TextAfterAClosingQuoteIsRefused()
    {
        Refused("text,label\n\"he said \"hi\" twice\",a\n", 2, "has 'h' after its closing quote");
    }

    [Fact]
    public void AnEmptyLabelIsRefused()
    {
        Refused("text,label\nfine,a\n\"quoted, text\",\"\"\n", 3, "the label (column 2) is empty");
    }

    [Fact]
    public void AHeaderWithTheWrongColumnCountIsRefused()
    {
        Refused("text\nfine,a\n", 1, "(the header's names), found 1");
    }

    [Fact]
    public void AMultiLineRecordIsCountedFromItsFirstLine()
    {
        // The bad record starts on line 4, after a quoted text spanning lines 2-3.
        Refused("text,label\n\"two\nlines\",a\nthree,columns,here\n", 4, "found 3");
        Refused("text,label\n\"two\nlines, then\",a,b\n", 2, "found 3");
    }

    [Fact]
    public void WellFormedQuotingAndSkippedLinesStillLoad()
    {
        string path = Write(
            "# a comment before the header\n" +
            "text,label\r\n" +
            "plain,a\r\n" +
            "\r\n" +
            "// a comment line\n" +
            "\"with, comma\",b\n" +
            "\"doubled \"\"quotes\"\"\",c\n" +
            "\"multi\nline\",d");
        IDataView data = TextLabelCsv.Load(new MLContext(seed: 1), path);
        Assert.Equal(["plain", "with, comma", "doubled \"quotes\"", "multi\nline"], data.GetColumn<string>("Text"));
        Assert.Equal(["a", "b", "c", "d"], data.GetColumn<string>("Label"));
    }

    [SkippableTheory]
    [InlineData("banking77/train.csv", 10003)]
    [InlineData("banking77/test.csv", 3080)]
    public void Banking77PassesTheCheck(string file, int rows)
    {
        string path = TestPaths.RequireSharedData(file);
        Assert.Equal(rows, TextLabelCsv.Load(new MLContext(seed: 1), path).GetColumn<string>("Label").Count());
    }
}
