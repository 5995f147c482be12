using Microsoft.ML.PTuning.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Tests.Modeling;

/// <summary>
/// A deliberately plain re-statement of HF BertModel/RobertaModel's eager forward (per-row loops for positions, one
/// op per line), reading weights by checkpoint name — an independent check on the module wiring.
/// </summary>
internal static class ReferenceEncoder
{
    public static Tensor Forward(TransformerEncoder encoder, EncoderConfig c, Tensor ids, Tensor mask, Tensor types, PastKeyValues? prefix)
    {
        Tensor W(string name) => encoder.get_parameter(name) ?? throw new KeyNotFoundException(name);
        Tensor Linear(Tensor x, string name) => torch.matmul(x, W(name + ".weight").t()) + W(name + ".bias");
        Tensor Norm(Tensor x, string name) =>
            nn.functional.layer_norm(x, [c.HiddenSize], W(name + ".weight"), W(name + ".bias"), c.LayerNormEps);

        long batch = ids.shape[0], length = ids.shape[1];
        int past = prefix?.Length ?? 0;
        var positions = new long[batch, length];
        long[] flatIds = ids.data<long>().ToArray();
        for (int b = 0; b < batch; b++)
        {
            long count = 0;
            for (int t = 0; t < length; t++)
            {
                if (!c.IsRoberta)
                {
                    positions[b, t] = past + t;
                    continue;
                }
                bool isPad = flatIds[b * length + t] == c.PadTokenId;
                if (!isPad)
                    count++;
                positions[b, t] = isPad ? c.PadTokenId : c.PadTokenId + past + count;
            }
        }

        Tensor h = W("embeddings.word_embeddings.weight").index_select(0, ids.flatten()).view(batch, length, -1)
                   + W("embeddings.position_embeddings.weight").index_select(0, torch.tensor(positions).flatten()).view(batch, length, -1)
                   + W("embeddings.token_type_embeddings.weight").index_select(0, types.flatten()).view(batch, length, -1);
        h = Norm(h, "embeddings.LayerNorm");

        Tensor fullMask = torch.cat([torch.ones(batch, past), mask.to_type(ScalarType.Float32)], 1);
        Tensor additive = (1 - fullMask).view(batch, 1, 1, -1) * float.MinValue;
        Tensor tokensOnly = (1 - mask.to_type(ScalarType.Float32)).view(batch, 1, 1, -1) * float.MinValue;
        // A partial-depth prefix covers the top LayerCount layers; the layers below see the tokens alone.
        int firstWithPrefix = c.NumHiddenLayers - (prefix?.LayerCount ?? 0);
        int heads = c.NumAttentionHeads, d = c.HeadDim;
        for (int i = 0; i < c.NumHiddenLayers; i++)
        {
            string l = $"encoder.layer.{i}.";
            Tensor Heads(Tensor x) => x.view(batch, length, heads, d).transpose(1, 2);
            Tensor q = Heads(Linear(h, l + "attention.self.query"));
            Tensor k = Heads(Linear(h, l + "attention.self.key"));
            Tensor v = Heads(Linear(h, l + "attention.self.value"));
            bool withPrefix = prefix is not null && i >= firstWithPrefix;
            if (withPrefix)
            {
                k = torch.cat([prefix!.KeyValues[2 * (i - firstWithPrefix)], k], 2);
                v = torch.cat([prefix.KeyValues[2 * (i - firstWithPrefix) + 1], v], 2);
            }
            Tensor scores = torch.matmul(q, k.transpose(2, 3)) / Math.Sqrt(d) + (withPrefix ? additive : tokensOnly);
            Tensor context = torch.matmul(scores.softmax(-1), v).transpose(1, 2).reshape(batch, length, -1);
            Tensor attended = Norm(Linear(context, l + "attention.output.dense") + h, l + "attention.output.LayerNorm");
            Tensor inner = Linear(attended, l + "intermediate.dense");
            inner = c.HiddenAct == "gelu"
                ? 0.5 * inner * (1 + torch.special.erf(inner / Math.Sqrt(2)))
                : 0.5 * inner * (1 + torch.tanh(Math.Sqrt(2 / Math.PI) * (inner + 0.044715 * inner * inner * inner)));
            h = Norm(Linear(inner, l + "output.dense") + attended, l + "output.LayerNorm");
        }
        return h;
    }
}
