using Microsoft.ML.PTuning.Tokenization;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Runtime;

/// <summary>
/// Token sequences padded into one batch on a device: what every forward pass takes, in training and at inference.
/// Padding is dynamic: to the longest sequence of the batch, not a fixed length, so short batches cost less.
/// </summary>
internal sealed class TokenBatch : IDisposable
{
    private TokenBatch(Tensor inputIds, Tensor attentionMask, Tensor tokenTypeIds, int length)
    {
        InputIds = inputIds;
        AttentionMask = attentionMask;
        TokenTypeIds = tokenTypeIds;
        Length = length;
    }

    /// <summary>[B, T] token ids, padded with the tokenizer's pad id.</summary>
    public Tensor InputIds { get; }

    /// <summary>[B, T]: 1 at real tokens, 0 at padding.</summary>
    public Tensor AttentionMask { get; }

    /// <summary>[B, T] token types (segment ids), 0 at padding.</summary>
    public Tensor TokenTypeIds { get; }

    /// <summary>T, the padded length (the longest sequence, at least 1).</summary>
    public int Length { get; }

    /// <summary>Pads <paramref name="sequences"/> to their longest with <paramref name="padTokenId"/>.</summary>
    public static TokenBatch Collate(IReadOnlyList<EncodedText> sequences, long padTokenId, Device device)
    {
        int rows = sequences.Count;
        int length = 1;
        foreach (EncodedText sequence in sequences)
            length = Math.Max(length, sequence.InputIds.Length);

        var ids = new long[rows * length];
        var mask = new long[rows * length];
        var types = new long[rows * length];
        Array.Fill(ids, padTokenId);
        for (int r = 0; r < rows; r++)
        {
            var (inputIds, tokenTypes) = sequences[r];
            for (int t = 0; t < inputIds.Length; t++)
            {
                ids[r * length + t] = inputIds[t];
                mask[r * length + t] = 1;
                types[r * length + t] = tokenTypes[t];
            }
        }

        long[] shape = { rows, length };
        return new TokenBatch(
            tensor(ids, shape, dtype: ScalarType.Int64, device: device),
            tensor(mask, shape, dtype: ScalarType.Int64, device: device),
            tensor(types, shape, dtype: ScalarType.Int64, device: device),
            length);
    }

    public void Dispose()
    {
        InputIds.Dispose();
        AttentionMask.Dispose();
        TokenTypeIds.Dispose();
    }
}
