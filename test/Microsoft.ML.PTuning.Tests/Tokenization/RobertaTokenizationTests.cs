using System.Text;
using Microsoft.ML.PTuning.Tokenization;
using Xunit;
using static Microsoft.ML.PTuning.Tests.Tokenization.TinyTokenizerFolders;

namespace Microsoft.ML.PTuning.Tests.Tokenization;

/// <summary>Byte-level BPE with Hugging Face's RoBERTa rules, on a hand-written vocabulary and merge list.</summary>
public class RobertaTokenizationTests
{
    private static readonly EncoderTokenizer Tokenizer = EncoderTokenizer.FromFolder(RobertaFolder(), "roberta");

    private static int[] Ids(params string[] tokens) => tokens.Select(Roberta).ToArray();

    private static int[] Bytes(string text) => Encoding.UTF8.GetBytes(text).Select(ByteId).ToArray();

    [Fact]
    public void TextIsEncodedWithoutPrefixSpaceAndSpacesBecomeG()
    {
        // Hugging Face: "Hello world" → <s> Hello Ġworld </s>.
        EncodedText e = Tokenizer.Encode("Hello world", null, 64);
        Assert.Equal(Ids("<s>", "Hello", "Ġworld", "</s>"), e.InputIds);
        Assert.Equal(new int[4], e.TokenTypeIds);
        Assert.Equal(Roberta("<pad>"), Tokenizer.PadTokenId);
        Assert.Equal(2, Tokenizer.SpecialTokenCount(false));
        Assert.Equal(4, Tokenizer.SpecialTokenCount(true));

        // A leading space is kept as Ġ; of two spaces, the first stands alone.
        Assert.Equal(Ids("<s>", "ĠHello", "</s>"), Tokenizer.Encode(" Hello", null, 64).InputIds);
        Assert.Equal(Ids("<s>", "Hello", "Ġ", "Ġworld", "</s>"), Tokenizer.Encode("Hello  world", null, 64).InputIds);
    }

    [Fact]
    public void MergesApplyByRankNotByPosition()
    {
        // " word": "r d" has the best rank, so it merges before "Ġ w" + "o r" could make "Ġwor".
        Assert.Equal([Roberta("<s>"), Roberta("Ġw"), ByteId((byte)'o'), Roberta("rd"), Roberta("</s>")],
            Tokenizer.Encode(" word", null, 64).InputIds);
        // Without the leading space "world" has no "Ġw" to start from.
        Assert.Equal([Roberta("<s>"), ByteId((byte)'w'), Roberta("or"), Roberta("ld"), Roberta("</s>")],
            Tokenizer.Encode("world", null, 64).InputIds);
    }

    [Fact]
    public void PairUsesDoubleSeparatorAndTypeZero()
    {
        EncodedText e = Tokenizer.Encode("Hello", "Hello world", 64);
        Assert.Equal(Ids("<s>", "Hello", "</s>", "</s>", "Hello", "Ġworld", "</s>"), e.InputIds);
        Assert.Equal(new int[7], e.TokenTypeIds);
    }

    [Fact]
    public void TruncationIsLongestFirst()
    {
        // 2 + 1 tokens with room for 2 (maxTokens 6 = 4 specials + 2): the longer first loses one.
        EncodedText e = Tokenizer.Encode("Hello world", "Hello", 6);
        Assert.Equal(Ids("<s>", "Hello", "</s>", "</s>", "Hello", "</s>"), e.InputIds);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.Encode("Hello", "Hello", 4));
        Assert.Equal("maxTokens", ex.ParamName);
    }

    [Fact]
    public void SpecialTokensInTextAndMaskSwallowsTheSpaceBeforeIt()
    {
        Assert.Equal(Ids("<s>", "Hello", "<mask>", "Ġworld", "</s>"), Tokenizer.Encode("Hello <mask> world", null, 64).InputIds);
        Assert.Equal(Ids("<s>", "Hello", "</s>", "Hello", "</s>"), Tokenizer.Encode("Hello</s>Hello", null, 64).InputIds);
    }

    [Fact]
    public void EmptyTextAndOddUnicode()
    {
        Assert.Equal(Ids("<s>", "</s>"), Tokenizer.Encode(null, null, 4).InputIds);
        Assert.Equal(Ids("<s>", "</s>"), Tokenizer.Encode("", null, 4).InputIds);
        Assert.Equal(Ids("<s>", "</s>", "</s>", "</s>"), Tokenizer.Encode("", "", 5).InputIds);

        // No merge applies: every UTF-8 byte is its own token (emoji, combining mark, RTL script, zero-width joiner).
        foreach (string odd in new[] { "😀", "e\u0301", "שלום", "a\u200Db", "\u202Eabc" })
        {
            int[] ids = Tokenizer.Encode(odd, null, 64).InputIds;
            Assert.Equal([Roberta("<s>"), .. Bytes(odd), Roberta("</s>")], ids);
        }
    }

    [Fact]
    public void WordsAllGetAPrefixSpaceAndMarkTheirFirstSubToken()
    {
        // Hugging Face with is_split_into_words=True and add_prefix_space=True: ĠHello Ġworld, the first word included.
        EncodedWords e = Tokenizer.EncodeWords(["Hello", "world", "", "word"], 64);
        Assert.Equal([Roberta("<s>"), Roberta("ĠHello"), Roberta("Ġworld"), Roberta("<unk>"),
            Roberta("Ġw"), ByteId((byte)'o'), Roberta("rd"), Roberta("</s>")], e.InputIds);
        Assert.Equal([-1, 0, 1, 2, 3, -1, -1, -1], e.WordIndex);
    }

    [Fact]
    public void BadFilesGiveErrorsThatNameThem()
    {
        string folder = RobertaFolder();
        File.Delete(Path.Combine(folder, "merges.txt"));
        var missing = Assert.Throws<FileNotFoundException>(() => EncoderTokenizer.FromFolder(folder, "roberta"));
        Assert.Contains("merges.txt", missing.Message);

        folder = RobertaFolder();
        File.AppendAllText(Path.Combine(folder, "merges.txt"), "q z\n"); // "qz" is not in the vocabulary
        var bad = Assert.Throws<InvalidDataException>(() => EncoderTokenizer.FromFolder(folder, "roberta"));
        Assert.Contains("merges.txt", bad.Message);

        folder = RobertaFolder("""{"mask_token": {"content": "<MASK>", "lstrip": true}}""");
        var noMask = Assert.Throws<InvalidDataException>(() => EncoderTokenizer.FromFolder(folder, "roberta"));
        Assert.Contains("<MASK>", noMask.Message);
    }
}
