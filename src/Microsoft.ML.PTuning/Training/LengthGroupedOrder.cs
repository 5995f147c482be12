namespace Microsoft.ML.PTuning.Training;

/// <summary>
/// The order in which one epoch visits the training examples, so that each batch holds examples of similar length and
/// pads little (Hugging Face's <c>group_by_length</c>, <c>LengthGroupedSampler</c>).
/// </summary>
/// <remarks>
/// <para>
/// As HF does: the examples are shuffled, cut into windows ("megabatches") of <c>min(50, n / (4·B))</c> batches (at least
/// one), and each window is sorted by length, longest first, then cut into batches. So which examples share a window is
/// random every epoch, and the windows come in random order; only the batches are length-homogeneous. The batch that
/// holds the epoch's longest example goes first, as in HF, so a batch too large for memory fails at the first step and
/// not hours in.
/// </para>
/// <para>
/// One choice differs from HF: the batches of a window are shuffled among themselves (the first one of the epoch
/// excepted), where HF leaves them longest-first. Otherwise every window would walk from long to short examples, a
/// trend within each window that the learning rate schedule and AdamW's moments would see 1/window times per epoch;
/// shuffling costs nothing and leaves the padding the same.
/// </para>
/// </remarks>
internal static class LengthGroupedOrder
{
    /// <summary>The most batches a window holds (HF's <c>mega_batch_mult</c> default).</summary>
    public const int MaxBatchesPerWindow = 50;

    /// <summary>
    /// Batches (example indices into <paramref name="lengths"/>) for one epoch. Every example appears exactly once; all
    /// batches have <paramref name="batchSize"/> examples but one, the last of the last window, which may have fewer.
    /// </summary>
    /// <param name="random">The epoch's generator (the only source of randomness).</param>
    /// <param name="lengths">Each example's length in tokens.</param>
    /// <param name="batchSize">Examples per batch (≥ 1).</param>
    public static List<int[]> Batches(Random random, IReadOnlyList<int> lengths, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(lengths);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        int count = lengths.Count;
        int[] order = Enumerable.Range(0, count).ToArray();
        random.Shuffle(order);

        int batchesPerWindow = Math.Clamp(count / (4 * batchSize), 1, MaxBatchesPerWindow);
        int windowSize = batchesPerWindow * batchSize;
        var batches = new List<int[]>((count + batchSize - 1) / batchSize);
        for (int start = 0; start < count; start += windowSize)
        {
            // Stable sort by length, longest first: ties keep the shuffled order.
            int[] window = order.Skip(start).Take(windowSize).OrderByDescending(i => lengths[i]).ToArray();
            var windowBatches = window.Chunk(batchSize).ToArray();
            random.Shuffle(windowBatches);
            batches.AddRange(windowBatches);
        }

        int maxLength = count == 0 ? 0 : lengths.Max();
        int longest = batches.FindIndex(b => b.Any(i => lengths[i] == maxLength));
        if (longest > 0)
            (batches[0], batches[longest]) = (batches[longest], batches[0]);
        return batches;
    }

    /// <summary>Plain shuffled batches (no grouping): a random permutation cut into consecutive batches.</summary>
    public static List<int[]> Shuffled(Random random, int count, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        int[] order = Enumerable.Range(0, count).ToArray();
        random.Shuffle(order);
        return order.Chunk(batchSize).ToList();
    }
}
