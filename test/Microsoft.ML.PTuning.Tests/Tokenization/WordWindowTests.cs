using Microsoft.ML.PTuning.Tokenization;
using Xunit;
using static Microsoft.ML.PTuning.Tests.Tokenization.TinyTokenizerFolders;

namespace Microsoft.ML.PTuning.Tests.Tokenization;

/// <summary>Words that do not fit one input: starts, windows, and the rule for maxTokens.</summary>
public class WordWindowTests
{
    private static readonly EncoderTokenizer Bert = EncoderTokenizer.FromFolder(BertFolder(), "bert");

    // 1, 3, 1, 1, 2, 1, 3, 1 sub-tokens.
    private static readonly string[] Words = ["hello", "unaffable", "world", "the", "cafes", "!", "unaffable", "a"];

    [Fact]
    public void WordsThatDoNotFitAreLeftOutAndTheNextCallStartsThere()
    {
        EncodedWords first = Bert.EncodeWords(Words, 6); // room for 4: hello + unaffable(3)
        Assert.Equal([-1, 0, 1, -1, -1, -1], first.WordIndex);
        Assert.Equal(2, first.WordCount);

        EncodedWords next = Bert.EncodeWords(Words, first.WordCount, 6); // world, the, cafes(2)
        Assert.Equal([Bert("[CLS]"), Bert("world"), Bert("the"), Bert("cafe"), Bert("##s"), Bert("[SEP]")], next.InputIds);
        Assert.Equal([-1, 2, 3, 4, -1, -1], next.WordIndex);
        Assert.Equal(2, next.FirstWord);

        EncodedWords none = Bert.EncodeWords(Words, Words.Length, 6);
        Assert.Equal([Bert("[CLS]"), Bert("[SEP]")], none.InputIds);
        Assert.Equal(0, none.WordCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => Bert.EncodeWords(Words, Words.Length + 1, 6));
        Assert.Equal("maxTokens", Assert.Throws<ArgumentOutOfRangeException>(() => Bert.EncodeWords(Words, 2)).ParamName);
    }

    [Fact]
    public void AWordLongerThanTheRoomIsCutButKeepsItsFirstSubToken()
    {
        EncodedWords e = Bert.EncodeWords(Words, 1, 4); // room for 2 of unaffable's 3 pieces
        Assert.Equal([Bert("[CLS]"), Bert("un"), Bert("##aff"), Bert("[SEP]")], e.InputIds);
        Assert.Equal([-1, 1, -1, -1], e.WordIndex);
    }

    [Theory]
    [InlineData(3, 0)]
    [InlineData(4, 1)]
    [InlineData(6, 2)]
    [InlineData(7, 5)]
    [InlineData(64, 3)]
    public void WindowsCoverEveryWordInOrderWithinTheLimit(int maxTokens, int overlap)
    {
        IReadOnlyList<EncodedWords> windows = Bert.EncodeWordWindows(Words, maxTokens, overlap);
        var seen = new HashSet<int>();
        int previousFirst = -1;
        foreach (EncodedWords w in windows)
        {
            Assert.True(w.InputIds.Length <= maxTokens);
            Assert.True(w.FirstWord > previousFirst, "windows move forward");
            previousFirst = w.FirstWord;
            Assert.Equal(Bert.EncodeWords(Words, w.FirstWord, maxTokens), w, EncodedWordsComparer.Instance);
            int[] marked = w.WordIndex.Where(i => i >= 0).ToArray();
            Assert.Equal(Enumerable.Range(w.FirstWord, marked.Length), marked);
            seen.UnionWith(marked);
        }
        Assert.Equal(Enumerable.Range(0, Words.Length), seen.Order());
        Assert.Empty(Bert.EncodeWordWindows([], maxTokens, overlap));
        if (maxTokens >= 64)
        {
            Assert.Single(windows);
        }
    }

    private sealed class EncodedWordsComparer : IEqualityComparer<EncodedWords>
    {
        public static readonly EncodedWordsComparer Instance = new();

        public bool Equals(EncodedWords? x, EncodedWords? y) =>
            x is not null && y is not null && x.InputIds.SequenceEqual(y.InputIds)
            && x.TokenTypeIds.SequenceEqual(y.TokenTypeIds) && x.WordIndex.SequenceEqual(y.WordIndex);

        public int GetHashCode(EncodedWords obj) => obj.InputIds.Length;
    }
}
