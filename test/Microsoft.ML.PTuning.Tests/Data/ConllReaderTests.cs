using Microsoft.ML.PTuning.Data;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Data;

/// <summary>The CoNLL reader on small inline files and, where present, on WNUT-17.</summary>
public class ConllReaderTests
{
    private static string WriteFile(string text)
    {
        string path = Path.Combine(TestPaths.NewTempFolder("conll"), "data.conll");
        File.WriteAllText(path, text);
        return path;
    }

    private static (string[] Tokens, string[] Tags)[] ReadText(string text) => ConllReader.Read(WriteFile(text)).ToArray();

    [Fact]
    public void BlankLinesSeparateSentences()
    {
        var sentences = ReadText("Ana\tB-PER\nruns\tO\n\nIn\tO\nOslo\tB-LOC\n");
        Assert.Equal(2, sentences.Length);
        Assert.Equal(new[] { "Ana", "runs" }, sentences[0].Tokens);
        Assert.Equal(new[] { "B-PER", "O" }, sentences[0].Tags);
        Assert.Equal(new[] { "In", "Oslo" }, sentences[1].Tokens);
        Assert.Equal(new[] { "O", "B-LOC" }, sentences[1].Tags);
    }

    [Fact]
    public void ALineHoldingOnlyATabSeparatesSentencesAsInWnut17Train()
    {
        var sentences = ReadText("a\tO\nb\tB-PER\n\t\nc\tO\n \t \nd\tO\n\n\n");
        Assert.Equal(new[] { new[] { "a", "b" }, new[] { "c" }, new[] { "d" } }, sentences.Select(s => s.Tokens));
    }

    [Fact]
    public void SpaceSeparatedMultiColumnCrlfAndDocstartLinesAreRead()
    {
        // CoNLL-2003 style: token POS chunk NER, a -DOCSTART- line, CRLF line ends, no final newline
        var sentences = ReadText("-DOCSTART- -X- -X- O\r\n\r\nEU NNP B-NP B-ORG\r\nrejects VBZ B-VP O\r\n-DOCSTART- -X- O O\r\nPeter   B-PER");
        Assert.Equal(2, sentences.Length);
        Assert.Equal(new[] { "EU", "rejects" }, sentences[0].Tokens);
        Assert.Equal(new[] { "B-ORG", "O" }, sentences[0].Tags);
        Assert.Equal(new[] { "Peter" }, sentences[1].Tokens);
        Assert.Equal(new[] { "B-PER" }, sentences[1].Tags);
    }

    [Fact]
    public void UnusualWhiteSpaceCharactersAreTokens()
    {
        // WNUT-17 dev/test hold tokens that are a lone variation selector; a no-break space is kept too
        var sentences = ReadText("hi\tO\n\uFE0F\tO\n\u00A0\tO\n");
        Assert.Equal(new[] { "hi", "\uFE0F", "\u00A0" }, Assert.Single(sentences).Tokens);
    }

    [Theory]
    [InlineData("a\tO\nlonely\n", 2, "lonely")]
    [InlineData("a\tO\n\tB-PER\n", 2, "\\tB-PER")]
    [InlineData("a\tO\n\nb\tO\nc\t\n", 4, "c\\t")]
    public void AMalformedLineIsReportedWithFileAndLine(string text, int line, string shown)
    {
        string path = WriteFile(text);
        var error = Assert.Throws<InvalidDataException>(() => ConllReader.Read(path).ToArray());
        Assert.Contains($"'{path}', line {line}:", error.Message);
        Assert.Contains($"found '{shown}'", error.Message);
    }

    [Fact]
    public void AMissingFileFailsBeforeEnumeration()
    {
        string path = Path.Combine(TestPaths.NewTempFolder("conll"), "absent.conll");
        var error = Assert.Throws<FileNotFoundException>(() => ConllReader.Read(path));
        Assert.Contains(path, error.Message);
    }

    [SkippableTheory]
    [InlineData("wnut17/wnut17train.conll", 3394)]
    [InlineData("wnut17/emerging.dev.conll", 1009)]
    [InlineData("wnut17/emerging.test.annotated", 1287)]
    public void Wnut17SentenceCountsMatchThePublishedOnes(string file, int sentences)
    {
        string path = TestPaths.RequireSharedData(file);
        var read = ConllReader.Read(path).ToArray();

        Assert.Equal(sentences, read.Length);
        Assert.All(read, s => Assert.Equal(s.Tokens.Length, s.Tags.Length));
        // BIO over WNUT-17's six types
        string[] types = { "corporation", "creative-work", "group", "location", "person", "product" };
        string[] expectedTags = types.SelectMany(t => new[] { "B-" + t, "I-" + t }).Append("O").Order(StringComparer.Ordinal).ToArray();
        string[] tags = read.SelectMany(s => s.Tags).Distinct().Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expectedTags, tags);
    }
}
