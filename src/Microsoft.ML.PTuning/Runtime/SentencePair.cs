using Microsoft.ML.PTuning.Tokenization;

namespace Microsoft.ML.PTuning.Runtime;

/// <summary>One text-classification input: a sentence, and the second sentence of a pair (null for single sentences).</summary>
internal readonly record struct SentencePair(string? Sentence1, string? Sentence2)
{
    /// <summary>The tokens within <paramref name="maxTokens"/> (pairs truncated longest-first); a missing sentence reads as empty.</summary>
    public EncodedText Encode(EncoderTokenizer tokenizer, int maxTokens) => tokenizer.Encode(Sentence1 ?? string.Empty, Sentence2, maxTokens);
}
