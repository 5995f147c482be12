using System.Text.Json;
using Microsoft.ML.PTuning.Tests.Tokenization;
using Microsoft.ML.PTuning.Tokenization;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Parity;

/// <summary>
/// Our tokenizers against the ids Hugging Face's tokenizers (transformers 5.17) gave for the tokenizers in
/// test/fixtures/hf/tokenizers/ (written by make_hf_fixtures.py): single sentences, sentence pairs with token types,
/// and pre-split words with the word of each first sub-token.
/// </summary>
public class HuggingFaceTokenizerParityTests
{
    private static string Folder => Path.Combine(TestPaths.RepoRoot, "test", "fixtures", "hf", "tokenizers");

    [Theory]
    [InlineData("roberta")]
    [InlineData("bert")]
    public void IdsEqualHuggingFace(string modelType)
    {
        using JsonDocument expected = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Folder, "expected.json")));
        JsonElement cases = expected.RootElement.GetProperty(modelType);
        JsonElement[] all = new[] { "single", "pairs", "words" }
            .SelectMany(group => cases.GetProperty(group).EnumerateArray())
            .ToArray();
        Assert.Equal(6 + 2 + 2, all.Length);

        var tokenizer = EncoderTokenizer.FromFolder(Path.Combine(Folder, modelType), modelType);

        Assert.Equal(all.Length, TokenizerFixture.AssertMatches(tokenizer, all));
    }

    [Fact]
    public void RobertaTokenTypesAreAllZeroWhereHuggingFaceGivesNone()
    {
        var tokenizer = EncoderTokenizer.FromFolder(Path.Combine(Folder, "roberta"), "roberta");

        EncodedText pair = tokenizer.Encode("How much is left?", "Transfer 200 euros.", 512);

        Assert.Equal(18, pair.InputIds.Length);
        Assert.All(pair.TokenTypeIds, t => Assert.Equal(0, t));
    }

    [Fact]
    public void BertWordIdsOfEverySubTokenMapToTheFirstSubTokenOnly()
    {
        // HF's word_ids() names the word at every sub-token; ours marks only the first. "Ltd." is two tokens (ltd, .).
        var tokenizer = EncoderTokenizer.FromFolder(Path.Combine(Folder, "bert"), "bert");

        EncodedWords words = tokenizer.EncodeWords(["Anna", "works", "for", "Contoso", "Ltd."], 512);

        Assert.Equal(new[] { -1, 0, 1, 2, 3, 4, -1, -1 }, words.WordIndex);
        Assert.Equal(0, words.FirstWord);
        Assert.Equal(5, words.WordCount);
    }
}
