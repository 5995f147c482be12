using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

/// <summary>
/// HF <c>BertSelfAttention</c> (absolute positions, eager): scaled dot-product attention over the layer's prefix
/// keys/values followed by the tokens' own, with an additive mask, softmax in fp32 and dropout on the probabilities.
/// </summary>
internal sealed class EncoderSelfAttention : nn.Module
{
#pragma warning disable IDE1006 // names equal the checkpoint's tensor names
    private readonly Linear query;
    private readonly Linear key;
    private readonly Linear value;
    private readonly Dropout dropout;
#pragma warning restore IDE1006

    private readonly int _heads;
    private readonly int _headDim;

    public EncoderSelfAttention(EncoderConfig config) : base("self")
    {
        _heads = config.NumAttentionHeads;
        _headDim = config.HeadDim;
        query = nn.Linear(config.HiddenSize, config.HiddenSize);
        key = nn.Linear(config.HiddenSize, config.HiddenSize);
        value = nn.Linear(config.HiddenSize, config.HiddenSize);
        dropout = nn.Dropout(config.AttentionProbsDropoutProb);
        RegisterComponents();
    }

    /// <summary>
    /// <paramref name="hidden"/> <c>[B, S, H]</c>; <paramref name="additiveMask"/> <c>[B, 1, 1, P + S]</c> (0 where
    /// visible, dtype-min where not); <paramref name="prefixKey"/>/<paramref name="prefixValue"/> <c>[B, heads, P, d]</c>
    /// or null. Returns the context <c>[B, S, H]</c>.
    /// </summary>
    public Tensor forward(Tensor hidden, Tensor additiveMask, Tensor? prefixKey, Tensor? prefixValue)
    {
        long batch = hidden.shape[0], length = hidden.shape[1];
        Tensor q = SplitHeads(query.forward(hidden), batch, length);
        Tensor k = SplitHeads(key.forward(hidden), batch, length);
        Tensor v = SplitHeads(value.forward(hidden), batch, length);
        if (prefixKey is not null && prefixValue is not null)
        {
            k = torch.cat([prefixKey.to_type(k.dtype), k], dim: 2);
            v = torch.cat([prefixValue.to_type(v.dtype), v], dim: 2);
        }

        Tensor scores = torch.matmul(q, k.transpose(-1, -2)) / Math.Sqrt(_headDim) + additiveMask;
        Tensor probs = nn.functional.softmax(scores, -1, ScalarType.Float32).to_type(q.dtype);
        Tensor context = torch.matmul(dropout.forward(probs), v);
        return context.permute(0, 2, 1, 3).reshape(batch, length, _heads * _headDim);
    }

    private Tensor SplitHeads(Tensor x, long batch, long length) =>
        x.view(batch, length, _heads, _headDim).permute(0, 2, 1, 3);
}
