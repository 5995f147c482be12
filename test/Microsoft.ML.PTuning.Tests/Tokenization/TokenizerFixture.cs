using System.Text.Json;
using Microsoft.ML.PTuning.Tokenization;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Tokenization;

/// <summary>
/// Checks a tokenizer against expected ids kept in JSON, for instance ids written by Hugging Face's tokenizer:
/// <code>
/// { "cases": [
///   { "text": "Hello world", "pair": null, "max_tokens": 512, "input_ids": [0, 31414, 232, 2], "token_type_ids": [0, 0, 0, 0] },
///   { "words": ["Hello", "world"], "max_tokens": 512, "input_ids": [...], "word_ids": [null, 0, 1, null] } ] }
/// </code>
/// <c>token_type_ids</c> is optional (null counts as absent: Hugging Face's RoBERTa tokenizer gives none). A words case gives either <c>word_index</c> (this library's form: the word at its
/// first sub-token, -1 elsewhere) or <c>word_ids</c> (Hugging Face's <c>word_ids()</c>: the word at every sub-token, null
/// at special tokens), which is converted.
/// </summary>
internal static class TokenizerFixture
{
    public static int AssertMatches(EncoderTokenizer tokenizer, string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        return AssertMatches(tokenizer, document.RootElement.GetProperty("cases").EnumerateArray());
    }

    /// <summary>Checks each case (an object of the form above); returns how many were checked.</summary>
    public static int AssertMatches(EncoderTokenizer tokenizer, IEnumerable<JsonElement> cases)
    {
        int count = 0;
        foreach (JsonElement c in cases)
        {
            int maxTokens = c.TryGetProperty("max_tokens", out JsonElement m) ? m.GetInt32() : 512;
            int[] expectedIds = Ints(c.GetProperty("input_ids"));
            string label = $"case {count}: {c}";
            if (c.TryGetProperty("words", out JsonElement wordsElement))
            {
                string[] words = wordsElement.EnumerateArray().Select(w => w.GetString()!).ToArray();
                EncodedWords actual = tokenizer.EncodeWords(words, maxTokens);
                AssertEqual(expectedIds, actual.InputIds, label);
                int[] expectedIndex = c.TryGetProperty("word_index", out JsonElement wi)
                    ? Ints(wi)
                    : FirstSubTokenIndex(c.GetProperty("word_ids"));
                AssertEqual(expectedIndex, actual.WordIndex, label);
            }
            else
            {
                string? text = c.GetProperty("text").GetString();
                string? pair = c.TryGetProperty("pair", out JsonElement p) ? p.GetString() : null;
                EncodedText actual = tokenizer.Encode(text, pair, maxTokens);
                AssertEqual(expectedIds, actual.InputIds, label);
                if (c.TryGetProperty("token_type_ids", out JsonElement types) && types.ValueKind != JsonValueKind.Null)
                {
                    AssertEqual(Ints(types), actual.TokenTypeIds, label);
                }
            }
            count++;
        }
        return count;
    }

    private static void AssertEqual(int[] expected, int[] actual, string label)
    {
        if (!expected.SequenceEqual(actual))
        {
            Assert.Fail($"{label}\nexpected [{string.Join(", ", expected)}]\nactual   [{string.Join(", ", actual)}]");
        }
    }

    private static int[] Ints(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();

    private static int[] FirstSubTokenIndex(JsonElement wordIds)
    {
        var result = new List<int>();
        int? previous = null;
        foreach (JsonElement e in wordIds.EnumerateArray())
        {
            int? word = e.ValueKind == JsonValueKind.Null ? null : e.GetInt32();
            result.Add(word is int w && w != previous ? w : -1);
            previous = word;
        }
        return result.ToArray();
    }
}
