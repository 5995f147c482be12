using System.Text.Json;
using Microsoft.ML.Data;
using Microsoft.ML.PTuning.Data;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Data;

/// <summary>ML.NET's own text loader, as <see cref="TextLabelCsv"/> sets it up, reads quoted <c>text,label</c> CSV files such as banking77 correctly.</summary>
public class Banking77CsvTests
{
    private sealed class Row
    {
        public string Text { get; set; } = "";

        public string Category { get; set; } = "";
    }

    private static Row[] Load(string path, bool readMultilines)
    {
        var mlContext = new MLContext(seed: 1);
        TextLoader.Options options = TextLabelCsv.Options("Text", "Category");
        options.ReadMultilines = readMultilines;
        IDataView data = mlContext.Data.LoadFromTextFile(path, options);
        return mlContext.Data.CreateEnumerable<Row>(data, reuseRowObject: false).ToArray();
    }

    [Fact]
    public void QuotedFieldsWithCommasDoubledQuotesAndLineBreaksAreRead()
    {
        string path = Path.Combine(TestPaths.NewTempFolder("csv"), "small.csv");
        File.WriteAllText(path,
            "text,category\n" +
            "plain question,balance\n" +
            "\"Hi, I lost my card\",card_lost\n" +
            "\"it says \"\"pending\"\", why?\",pending\n" +
            "\"two\nlines\",complaint\n");

        Row[] rows = Load(path, readMultilines: true);

        Assert.Equal(new[] { "plain question", "Hi, I lost my card", "it says \"pending\", why?", "two\nlines" }, rows.Select(r => r.Text));
        Assert.Equal(new[] { "balance", "card_lost", "pending", "complaint" }, rows.Select(r => r.Category));
    }

    // Counts from an independent CSV reader (Python's csv module): rows, texts holding a quote, a line break, a comma,
    // and the total number of characters of all texts.
    [SkippableTheory]
    [InlineData("banking77/train.csv", 10003, 21, 10, 1341, 594916)]
    [InlineData("banking77/test.csv", 3080, 8, 3, 373, 167036)]
    public void Banking77ReadsAsAnIndependentCsvReaderReadsIt(string file, int rows, int withQuote, int withLineBreak, int withComma, long characters)
    {
        string path = TestPaths.RequireSharedData(file);

        Row[] read = Load(path, readMultilines: true);

        Assert.Equal(rows, read.Length);
        // every row's category is one of the 77 the dataset lists (one of them really ends in '?')
        string[] categories = JsonSerializer.Deserialize<string[]>(File.ReadAllText(TestPaths.RequireSharedData("banking77/categories.json")))!;
        Assert.Equal(77, categories.Length);
        Assert.Equal(categories.Order(StringComparer.Ordinal), read.Select(r => r.Category).Distinct().Order(StringComparer.Ordinal));
        Assert.All(read, r => Assert.False(string.IsNullOrWhiteSpace(r.Text)));
        Assert.Equal(withQuote, read.Count(r => r.Text.Contains('"')));
        Assert.Equal(withLineBreak, read.Count(r => r.Text.Contains('\n')));
        Assert.Equal(withComma, read.Count(r => r.Text.Contains(',')));
        Assert.Equal(characters, read.Sum(r => (long)r.Text.Length));
    }

    [Fact]
    public void AMissingFileIsNamed()
    {
        string path = Path.Combine(TestPaths.NewTempFolder("csv"), "absent.csv");
        var error = Assert.Throws<FileNotFoundException>(() => TextLabelCsv.Load(new MLContext(seed: 1), path));
        Assert.Contains(path, error.Message);
    }

    [SkippableFact]
    public void Banking77NeedsReadMultilinesBecauseSomeQuotedTextsSpanLines()
    {
        string path = TestPaths.RequireSharedData("banking77/train.csv");
        Row[] read = Load(path, readMultilines: false);
        Assert.NotEqual(10003, read.Length);
    }
}
