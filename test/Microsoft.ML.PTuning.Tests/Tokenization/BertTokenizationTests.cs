using Microsoft.ML.PTuning.Tokenization;
using Xunit;
using static Microsoft.ML.PTuning.Tests.Tokenization.TinyTokenizerFolders;

namespace Microsoft.ML.PTuning.Tests.Tokenization;

/// <summary>WordPiece with Hugging Face's BERT rules, on a hand-written vocabulary.</summary>
public class BertTokenizationTests
{
    private static readonly EncoderTokenizer Uncased = EncoderTokenizer.FromFolder(BertFolder(), "bert");

    private static int[] Ids(params string[] tokens) => tokens.Select(Bert).ToArray();

    [Fact]
    public void SingleTextHasClsAndSepAndTypeZero()
    {
        EncodedText e = Uncased.Encode("Hello, world!", null, 64);
        Assert.Equal(Ids("[CLS]", "hello", ",", "world", "!", "[SEP]"), e.InputIds);
        Assert.Equal(new int[6], e.TokenTypeIds);
        Assert.Equal(Bert("[PAD]"), Uncased.PadTokenId);
        Assert.Equal(2, Uncased.SpecialTokenCount(false));
        Assert.Equal(3, Uncased.SpecialTokenCount(true));
    }

    [Fact]
    public void PairHasTypeOneFromSecondSegmentOn()
    {
        EncodedText e = Uncased.Encode("hello", "the world", 64);
        Assert.Equal(Ids("[CLS]", "hello", "[SEP]", "the", "world", "[SEP]"), e.InputIds);
        Assert.Equal([0, 0, 0, 1, 1, 1], e.TokenTypeIds);
    }

    [Fact]
    public void WordPieceSplitsIntoContinuationPieces()
    {
        Assert.Equal(Ids("[CLS]", "un", "##aff", "##able", "[SEP]"), Uncased.Encode("UNAFFABLE", null, 64).InputIds);
        Assert.Equal(Ids("[CLS]", "cafe", "##s", "[SEP]"), Uncased.Encode("cafes", null, 64).InputIds);
    }

    [Fact]
    public void LowerCasingAndAccentStrippingFollowTheConfig()
    {
        // Uncased: "Hello" is lower-cased, and accents go (strip_accents follows do_lower_case).
        Assert.Equal(Ids("[CLS]", "hello", "cafe", "[SEP]"), Uncased.Encode("Hello Café", null, 64).InputIds);
        Assert.Equal(Ids("[CLS]", "cafe", "[SEP]"), Uncased.Encode("cafe\u0301", null, 64).InputIds); // combining acute

        var cased = EncoderTokenizer.FromFolder(BertFolder("""{"do_lower_case": false}"""), "bert");
        Assert.Equal(Ids("[CLS]", "Hello", "world", "[SEP]"), cased.Encode("Hello world", null, 64).InputIds);
        Assert.Equal(Ids("[CLS]", "caf", "##é", "[SEP]"), cased.Encode("café", null, 64).InputIds);

        var lowerKeepAccents = EncoderTokenizer.FromFolder(BertFolder("""{"do_lower_case": true, "strip_accents": false}"""), "bert");
        Assert.Equal(Ids("[CLS]", "caf", "##é", "[SEP]"), lowerKeepAccents.Encode("CAFÉ", null, 64).InputIds);
    }

    [Fact]
    public void SplitsLikeHuggingFaceOnSymbolsUnderscoresTabsAndCjk()
    {
        // $ is an ASCII symbol, _ an ASCII punctuation: both are pieces of their own; a tab separates words.
        Assert.Equal(Ids("[CLS]", "5", "$", "a", "_", "b", "hello", "world", "[SEP]"),
            Uncased.Encode("5$ a_b hello\tworld", null, 64).InputIds);
        Assert.Equal(Ids("[CLS]", "a", "中", "文", "b", "[SEP]"), Uncased.Encode("a中文b", null, 64).InputIds);

        var noCjk = EncoderTokenizer.FromFolder(BertFolder("""{"tokenize_chinese_chars": false}"""), "bert");
        Assert.Equal(Ids("[CLS]", "[UNK]", "[SEP]"), noCjk.Encode("a中文b", null, 64).InputIds);
    }

    [Fact]
    public void SpecialTokensWrittenInTheTextBecomeTheirIds()
    {
        Assert.Equal(Ids("[CLS]", "hello", "[MASK]", "world", "[SEP]"), Uncased.Encode("hello [MASK] world", null, 64).InputIds);
        Assert.Equal(Ids("[CLS]", "hello", "[SEP]", "world", "[SEP]"), Uncased.Encode("hello[SEP]world", null, 64).InputIds);
    }

    [Fact]
    public void EmptyAndNullTextGiveTheSpecialTokensOnly()
    {
        Assert.Equal(Ids("[CLS]", "[SEP]"), Uncased.Encode(null, null, 8).InputIds);
        Assert.Equal(Ids("[CLS]", "[SEP]"), Uncased.Encode("", null, 8).InputIds);
        Assert.Equal(Ids("[CLS]", "[SEP]"), Uncased.Encode(" \t\r\n ", null, 8).InputIds);
        EncodedText pair = Uncased.Encode("", "", 8);
        Assert.Equal(Ids("[CLS]", "[SEP]", "[SEP]"), pair.InputIds);
        Assert.Equal([0, 0, 1], pair.TokenTypeIds);
    }

    [Fact]
    public void OddUnicodeDoesNotCrashAndMapsLikeHuggingFace()
    {
        // Emoji, right-to-left script: not in the vocabulary, one [UNK] per word. Zero-width space is a format character
        // and is deleted (joining the two words); a lone surrogate is dropped.
        Assert.Equal(Ids("[CLS]", "hello", "[UNK]", "[UNK]", "[SEP]"), Uncased.Encode("hello 😀 שָׁלוֹם", null, 64).InputIds);
        Assert.Equal(Ids("[CLS]", "[UNK]", "[SEP]"), Uncased.Encode("hello\u200Bworld", null, 64).InputIds);
        Assert.Equal(Ids("[CLS]", "hello", "[SEP]"), Uncased.Encode("hel\uD800lo\u0000\uFFFD", null, 64).InputIds);
        // Right-to-left override and pop-direction marks are format characters: deleted.
        Assert.Equal(Ids("[CLS]", "world", "[SEP]"), Uncased.Encode("\u202Eworld\u202C", null, 64).InputIds);
    }

    [Fact]
    public void CrlfVocabularyGivesTheSameIds()
    {
        var crlf = EncoderTokenizer.FromFolder(BertFolder(lineEnd: "\r\n"), "bert");
        Assert.Equal(Uncased.Encode("Hello, unaffable world!", "cafes", 64).InputIds,
            crlf.Encode("Hello, unaffable world!", "cafes", 64).InputIds);
    }

    [Fact]
    public void TruncationRemovesFromTheLongerSegmentOneTokenAtATime()
    {
        // 4 + 1 tokens, room for 4: the first (longer) loses one.
        EncodedText e = Uncased.Encode("hello world hello world", "hello", 3 + 4);
        Assert.Equal(Ids("[CLS]", "hello", "world", "hello", "[SEP]", "hello", "[SEP]"), e.InputIds);
        Assert.Equal([0, 0, 0, 0, 0, 1, 1], e.TokenTypeIds);

        // 3 + 3, room for 5: on a tie the second loses first.
        e = Uncased.Encode("hello world the", "world the hello", 3 + 5);
        Assert.Equal(Ids("[CLS]", "hello", "world", "the", "[SEP]", "world", "the", "[SEP]"), e.InputIds);

        // 2 + 6, room for 4: only the longer second segment loses tokens.
        e = Uncased.Encode("hello world", "the the the the the the", 3 + 4);
        Assert.Equal(Ids("[CLS]", "hello", "world", "[SEP]", "the", "the", "[SEP]"), e.InputIds);

        // A single text is cut at the end; the result never exceeds maxTokens.
        e = Uncased.Encode("unaffable world", null, 4);
        Assert.Equal(Ids("[CLS]", "un", "##aff", "[SEP]"), e.InputIds);
    }

    [Fact]
    public void MaxTokensBelowTheOverheadPlusOneIsRejected()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Uncased.Encode("hello", null, 2));
        Assert.Equal("maxTokens", ex.ParamName);
        ex = Assert.Throws<ArgumentOutOfRangeException>(() => Uncased.Encode("hello", "world", 3));
        Assert.Equal("maxTokens", ex.ParamName);
        Assert.Equal(4, Uncased.Encode("hello", "world", 4).InputIds.Length);
    }

    [Fact]
    public void WordsMarkTheirFirstSubTokenAndEmptyWordsGetUnknown()
    {
        EncodedWords e = Uncased.EncodeWords(["Hello", "unaffable", "\u0007", "world!"], 64);
        Assert.Equal(Ids("[CLS]", "hello", "un", "##aff", "##able", "[UNK]", "world", "!", "[SEP]"), e.InputIds);
        Assert.Equal([-1, 0, 1, -1, -1, 2, 3, -1, -1], e.WordIndex);
        Assert.Equal(new int[9], e.TokenTypeIds);
        Assert.Equal(0, e.FirstWord);
        Assert.Equal(4, e.WordCount);
    }

    [Fact]
    public void ConcurrentUseGivesTheSameIdsAsSequentialUse()
    {
        string[] texts = ["Hello, world!", "unaffable cafes", "a中文b 5$", "hello [MASK] world", "café", "the the the"];
        int[][] expected = texts.Select(t => Uncased.Encode(t, "hello", 16).InputIds).ToArray();
        var results = new int[200][];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 },
            i => results[i] = Uncased.Encode(texts[i % texts.Length], "hello", 16).InputIds);
        for (int i = 0; i < results.Length; i++)
        {
            Assert.Equal(expected[i % texts.Length], results[i]);
        }
    }

    [Fact]
    public void LoadingIsCachedPerFolderAndBadFoldersGiveClearErrors()
    {
        string folder = BertFolder();
        Assert.Same(EncoderTokenizer.FromFolder(folder, "bert"), EncoderTokenizer.FromFolder(folder, "BERT"));

        var type = Assert.Throws<ArgumentException>(() => EncoderTokenizer.FromFolder(folder, "xlm-roberta"));
        Assert.Equal("modelType", type.ParamName);
        Assert.Contains("xlm-roberta", type.Message);

        var missing = Assert.Throws<FileNotFoundException>(() => EncoderTokenizer.FromFolder(TestPaths.NewTempFolder("tok-empty"), "bert"));
        Assert.Contains("vocab.txt", missing.Message);

        string noMask = TestPaths.NewTempFolder("tok-nomask");
        File.WriteAllLines(Path.Combine(noMask, "vocab.txt"), BertVocab.Where(t => t != "[MASK]"));
        var bad = Assert.Throws<InvalidDataException>(() => EncoderTokenizer.FromFolder(noMask, "bert"));
        Assert.Contains("[MASK]", bad.Message);
        Assert.Contains("vocab.txt", bad.Message);
    }
}
