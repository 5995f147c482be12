using Microsoft.ML.PTuning.Tokenization;

namespace Microsoft.ML.PTuning.Runtime;

/// <summary>
/// Inference batches of similar length: a window of sequences sorted by token count (stable, so equal lengths keep
/// their order) and cut into batches, so each batch pads to a length close to its rows' own.
/// </summary>
internal static class LengthBuckets
{
    /// <summary>
    /// Batches of positions (0-based, relative to <paramref name="start"/>) covering
    /// <paramref name="sequences"/>[<paramref name="start"/> .. <paramref name="start"/> + <paramref name="count"/>),
    /// shortest first, each of <paramref name="batchSize"/> rows but the last.
    /// </summary>
    public static IEnumerable<int[]> Batches(IReadOnlyList<EncodedText> sequences, int start, int count, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        return Enumerable.Range(0, count).OrderBy(i => sequences[start + i].InputIds.Length).Chunk(batchSize);
    }
}
