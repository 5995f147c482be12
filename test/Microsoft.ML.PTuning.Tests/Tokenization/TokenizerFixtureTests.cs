using Microsoft.ML.PTuning.Tokenization;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Tokenization;

/// <summary>The JSON fixture format works, both for this library's word index and for Hugging Face's word_ids.</summary>
public class TokenizerFixtureTests
{
    [Fact]
    public void HandWrittenFixtureMatchesTheTinyVocabularies()
    {
        var bert = EncoderTokenizer.FromFolder(TinyTokenizerFolders.BertFolder(), "bert");
        const string bertCases = """
        { "cases": [
          { "text": "Hello, world!", "pair": "the cafes", "max_tokens": 64,
            "input_ids": [2, 5, 10, 6, 11, 3, 12, 13, 14, 3], "token_type_ids": [0, 0, 0, 0, 0, 0, 1, 1, 1, 1] },
          { "words": ["hello", "unaffable"], "max_tokens": 64, "input_ids": [2, 5, 7, 8, 9, 3], "word_ids": [null, 0, 1, 1, 1, null] },
          { "words": ["hello", "unaffable"], "max_tokens": 64, "input_ids": [2, 5, 7, 8, 9, 3], "word_index": [-1, 0, 1, -1, -1, -1] }
        ] }
        """;
        Assert.Equal(3, TokenizerFixture.AssertMatches(bert, bertCases));

        var roberta = EncoderTokenizer.FromFolder(TinyTokenizerFolders.RobertaFolder(), "roberta");
        int hello = TinyTokenizerFolders.Roberta("Hello"), gWorld = TinyTokenizerFolders.Roberta("Ġworld");
        string robertaCases = $$"""
        { "cases": [ { "text": "Hello world", "input_ids": [0, {{hello}}, {{gWorld}}, 2] } ] }
        """;
        Assert.Equal(1, TokenizerFixture.AssertMatches(roberta, robertaCases));

        const string wrong = """{ "cases": [ { "text": "hello", "input_ids": [2, 6, 3] } ] }""";
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => TokenizerFixture.AssertMatches(bert, wrong));
    }
}
