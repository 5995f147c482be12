using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Training;

/// <summary>
/// A padded batch on a device. Padding is dynamic: to the longest example of the batch, not a fixed length, so short
/// batches cost less.
/// </summary>
internal sealed class Batch : IDisposable
{
    private Batch(Tensor inputIds, Tensor attentionMask, Tensor tokenTypeIds, Tensor? labels, int size)
    {
        InputIds = inputIds;
        AttentionMask = attentionMask;
        TokenTypeIds = tokenTypeIds;
        Labels = labels;
        Size = size;
    }

    public Tensor InputIds { get; }
    public Tensor AttentionMask { get; }
    public Tensor TokenTypeIds { get; }
    /// <summary>[B] class indices, or [B, T] token labels with <see cref="TrainingExample.IgnoreIndex"/>; null for inference.</summary>
    public Tensor? Labels { get; }
    public int Size { get; }

    /// <summary>Pads token ids with <paramref name="padTokenId"/>; token labels (when <paramref name="tokenLabels"/>) with the ignore index.</summary>
    public static Batch Collate(IReadOnlyList<(int[] InputIds, int[] TokenTypeIds)> examples, IReadOnlyList<int[]>? labels,
        bool tokenLabels, long padTokenId, Device device)
    {
        int rows = examples.Count;
        int length = 1;
        foreach (var e in examples)
            length = Math.Max(length, e.InputIds.Length);

        var ids = new long[rows * length];
        var mask = new long[rows * length];
        var types = new long[rows * length];
        Array.Fill(ids, padTokenId);
        for (int r = 0; r < rows; r++)
        {
            var (inputIds, tokenTypes) = examples[r];
            for (int t = 0; t < inputIds.Length; t++)
            {
                ids[r * length + t] = inputIds[t];
                mask[r * length + t] = 1;
                types[r * length + t] = tokenTypes[t];
            }
        }

        Tensor? labelTensor = null;
        if (labels != null)
        {
            if (tokenLabels)
            {
                var values = new long[rows * length];
                Array.Fill(values, TrainingExample.IgnoreIndex);
                for (int r = 0; r < rows; r++)
                    for (int t = 0; t < labels[r].Length; t++)
                        values[r * length + t] = labels[r][t];
                labelTensor = tensor(values, new long[] { rows, length }, dtype: ScalarType.Int64, device: device);
            }
            else
            {
                labelTensor = tensor(labels.Select(l => (long)l[0]).ToArray(), new long[] { rows }, dtype: ScalarType.Int64, device: device);
            }
        }

        long[] shape = { rows, length };
        return new Batch(
            tensor(ids, shape, dtype: ScalarType.Int64, device: device),
            tensor(mask, shape, dtype: ScalarType.Int64, device: device),
            tensor(types, shape, dtype: ScalarType.Int64, device: device),
            labelTensor,
            rows);
    }

    public void Dispose()
    {
        InputIds.Dispose();
        AttentionMask.Dispose();
        TokenTypeIds.Dispose();
        Labels?.Dispose();
    }
}
