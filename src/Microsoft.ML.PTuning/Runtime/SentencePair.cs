namespace Microsoft.ML.PTuning.Runtime;

/// <summary>One text-classification input: a sentence, and the second sentence of a pair (null for single sentences).</summary>
internal readonly record struct SentencePair(string? Sentence1, string? Sentence2);
