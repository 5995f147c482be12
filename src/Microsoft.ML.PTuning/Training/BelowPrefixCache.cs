using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Training;

/// <summary>
/// Partial depth's saving: the output of the layers beneath the prefix, per training example, computed the first time
/// the example is drawn and reused in every later epoch, so those epochs run only the layers with the prefix.
/// </summary>
/// <remarks>
/// <para>
/// Valid because those layers are frozen and see neither the prefix nor dropout (<see cref="PrefixTunedModel.ForwardBelowPrefix"/>
/// runs them without autograd, in eval mode), so their output is a function of the example alone. Each example is kept
/// unpadded, <c>[T, H]</c> for its own T, keyed by its index in the training set, so it joins whatever batch the epoch's
/// order puts it in; a batch is zero-padded to its longest row when collated, and the attention mask hides the padding.
/// </para>
/// <para>
/// Held on the model's device in <see cref="TrainerSettings.BelowPrefixCacheType"/> (bfloat16 by default: half of fp32;
/// the layers above read it back in their own type) up to <see cref="TrainerSettings.BelowPrefixCacheBytes"/> (1 GiB
/// by default; Banking77's 10,003 training queries take about 0.1 GiB at MiniLM's width). An example that no longer
/// fits is recomputed each time it is drawn rather than spilled to disk: recomputing costs the same forward as the
/// first epoch, and a disk round trip per step would cost more than the layers it saves on a fast device. An example is
/// used as stored from its first epoch on, so every epoch sees the same rounded values.
/// </para>
/// </remarks>
internal sealed class BelowPrefixCache : IDisposable
{
    /// <summary>The default bound on the cache's tensors: 1 GiB.</summary>
    public const long DefaultBytes = 1L << 30;

    private readonly PrefixTunedModel _model;
    private readonly IReadOnlyList<TrainingExample> _examples;
    private readonly long _padTokenId;
    private readonly Device _device;
    private readonly long _limit;
    private readonly ScalarType _type;
    private readonly Tensor?[] _rows;
    private ScalarType _computeType = ScalarType.Float32;

    private BelowPrefixCache(PrefixTunedModel model, IReadOnlyList<TrainingExample> examples, TrainerSettings settings, long padTokenId, Device device)
    {
        _model = model;
        _examples = examples;
        _padTokenId = padTokenId;
        _device = device;
        _limit = settings.BelowPrefixCacheBytes;
        _type = settings.BelowPrefixCacheType;
        _rows = new Tensor?[examples.Count];
    }

    /// <summary>Bytes held.</summary>
    public long Bytes { get; private set; }

    /// <summary>Examples held.</summary>
    public int CachedCount { get; private set; }

    /// <summary>Times an example was computed and not kept because the bound was reached.</summary>
    public long Recomputed { get; private set; }

    /// <summary>A cache when <paramref name="model"/> has layers below its prefix, else null (nothing to save).</summary>
    public static BelowPrefixCache? For(PrefixTunedModel model, IReadOnlyList<TrainingExample> examples, TrainerSettings settings,
        long padTokenId, Device device) =>
        model.LayersBelowPrefix > 0 ? new BelowPrefixCache(model, examples, settings, padTokenId, device) : null;

    /// <summary>
    /// The logits of the examples <paramref name="indices"/> (collated as <paramref name="batch"/>): their cached
    /// below-prefix output (computed now for those not yet cached), padded to the batch, through the layers above.
    /// </summary>
    public Tensor Logits(IReadOnlyList<int> indices, TokenBatch batch)
    {
        var rows = new Tensor[indices.Count];
        var missing = new List<int>();
        for (int r = 0; r < indices.Count; r++)
        {
            if (_rows[indices[r]] is Tensor cached)
                rows[r] = cached;
            else
                missing.Add(r);
        }
        if (missing.Count > 0)
            Compute(indices, missing, rows);

        long length = batch.Length;
        Tensor hidden = torch.stack(rows.Select(row =>
        {
            Tensor h = row.to_type(_computeType);
            return h.shape[0] == length ? h : nn.functional.pad(h, new[] { 0L, 0L, 0L, length - h.shape[0] });
        }), 0);
        return _model.ForwardAbovePrefix(hidden, batch.AttentionMask);
    }

    private void Compute(IReadOnlyList<int> indices, List<int> missing, Tensor[] rows)
    {
        using var batch = TokenBatch.Collate(missing.Select(r => _examples[indices[r]].Tokens).ToList(), _padTokenId, _device);
        Tensor below = _model.ForwardBelowPrefix(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds);
        _computeType = below.dtype;
        for (int j = 0; j < missing.Count; j++)
        {
            int example = indices[missing[j]];
            Tensor row = below[j].narrow(0, 0, _examples[example].Tokens.InputIds.Length);
            long bytes = row.numel() * ElementSize(_type);
            if (Bytes + bytes > _limit)
            {
                rows[missing[j]] = row;
                Recomputed++;
                continue;
            }
            Tensor stored = row.to_type(_type).clone().DetachFromDisposeScope();
            _rows[example] = stored;
            Bytes += bytes;
            CachedCount++;
            rows[missing[j]] = stored;
        }
    }

    private static long ElementSize(ScalarType type) => type switch
    {
        ScalarType.Float64 => 8,
        ScalarType.Float32 => 4,
        ScalarType.BFloat16 or ScalarType.Float16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "The below-prefix cache holds float64, float32, bfloat16 or float16."),
    };

    public void Dispose()
    {
        for (int i = 0; i < _rows.Length; i++)
        {
            _rows[i]?.Dispose();
            _rows[i] = null;
        }
        Bytes = 0;
        CachedCount = 0;
    }
}
