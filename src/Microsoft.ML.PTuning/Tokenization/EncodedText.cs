namespace Microsoft.ML.PTuning.Tokenization;

/// <summary>
/// One model input made from a text or a text pair: token ids with the special tokens in place, and the token type
/// (segment) of each token.
/// </summary>
/// <param name="InputIds">Token ids, special tokens included; never longer than the <c>maxTokens</c> it was encoded with.</param>
/// <param name="TokenTypeIds">Per token: 0 for the first segment, 1 for the second (BERT); always 0 for RoBERTa.</param>
public sealed record EncodedText(int[] InputIds, int[] TokenTypeIds);
