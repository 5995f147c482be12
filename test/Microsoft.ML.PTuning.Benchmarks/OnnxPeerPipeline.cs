using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.PTuning.Runtime;
using Microsoft.ML.PTuning.Tokenization;

namespace Microsoft.ML.PTuning.Benchmarks;

/// <summary>
/// What a user could build instead of our <c>Transform</c>: the library's tokenizer (same folder, same token budget),
/// ONNX Runtime on the MiniLM ONNX file we import, batches of 32 in input order padded to their longest row, BERT's
/// pooling (<c>tanh(pooler.dense(h[CLS]))</c>) and the classifier, both with weights copied from one of our trained
/// models, then a softmax. For a model whose encoder is the unmodified base (a linear probe) it must predict what the
/// model predicts; a prefix-tuned model's encoder differs (its prefix keys and values enter every layer, and the ONNX
/// file has no input for them), so there it only costs the same work minus the prefix.
/// </summary>
internal sealed class OnnxPeerPipeline
{
    private const int BatchSize = 32;

    private readonly InferenceSession _session;
    private readonly EncoderTokenizer _tokenizer;
    private readonly int _maxTokens;
    private readonly int _hidden;
    private readonly int _classes;
    private readonly float[] _poolerWeight;
    private readonly float[] _poolerBias;
    private readonly float[] _classifierWeight;
    private readonly float[] _classifierBias;

    /// <summary>A peer of <paramref name="model"/>: its tokenizer, token budget, pooler and classifier weights; <paramref name="session"/> is not owned.</summary>
    public OnnxPeerPipeline(InferenceSession session, PrefixTuningTransformer model)
    {
        _session = session;
        var engine = model.Engine;
        _tokenizer = engine.Tokenizer;
        _maxTokens = engine.MaxTokens;
        _hidden = engine.Base.Config.HiddenSize;
        _classes = engine.ClassCount;
        var backbone = engine.Model.Backbone.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var head = engine.Model.Head.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        float[] Weights(Dictionary<string, TorchSharp.Modules.Parameter> parameters, string name, long size) =>
            parameters.TryGetValue(name, out var p) && p.numel() == size
                ? p.detach().cpu().to(TorchSharp.torch.ScalarType.Float32).data<float>().ToArray()
                : throw new InvalidOperationException($"The peer pipeline needs a BERT sequence-classification model with '{name}' of {size} values; this model's head is {engine.Model.Head.GetType().Name}.");
        _poolerWeight = Weights(backbone, "pooler.dense.weight", (long)_hidden * _hidden);
        _poolerBias = Weights(backbone, "pooler.dense.bias", _hidden);
        _classifierWeight = Weights(head, "classifier.weight", (long)_classes * _hidden);
        _classifierBias = Weights(head, "classifier.bias", _classes);
    }

    /// <summary>Class probabilities of each text, in input order.</summary>
    public float[][] Classify(IReadOnlyList<string> texts)
    {
        var result = new float[texts.Count][];
        string[] outputs = { "last_hidden_state" };
        for (int start = 0; start < texts.Count; start += BatchSize)
        {
            var encoded = texts.Skip(start).Take(BatchSize).Select(t => _tokenizer.Encode(t, null, _maxTokens)).ToList();
            int length = encoded.Max(e => e.InputIds.Length);
            int[] dims = { encoded.Count, length };
            var ids = new long[encoded.Count * length];
            var mask = new long[ids.Length];
            var types = new long[ids.Length];
            Array.Fill(ids, _tokenizer.PadTokenId);
            for (int r = 0; r < encoded.Count; r++)
            {
                for (int t = 0; t < encoded[r].InputIds.Length; t++)
                {
                    ids[r * length + t] = encoded[r].InputIds[t];
                    mask[r * length + t] = 1;
                    types[r * length + t] = encoded[r].TokenTypeIds[t];
                }
            }
            var inputs = new List<NamedOnnxValue>
            {
                NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, dims)),
                NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask, dims)),
                NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(types, dims)),
            };
            using var results = _session.Run(inputs, outputs);
            var hidden = results[0].AsTensor<float>();
            for (int r = 0; r < encoded.Count; r++)
                result[start + r] = Head(hidden, r);
        }
        return result;
    }

    /// <summary>Pooler (tanh of dense on the [CLS] state), classifier, softmax, for row <paramref name="row"/> of <c>[B, T, H]</c>.</summary>
    private float[] Head(Tensor<float> hidden, int row)
    {
        var cls = new float[_hidden];
        for (int k = 0; k < _hidden; k++)
            cls[k] = hidden[row, 0, k];
        var pooled = new float[_hidden];
        for (int j = 0; j < _hidden; j++)
            pooled[j] = MathF.Tanh(_poolerBias[j] + Dot(_poolerWeight.AsSpan(j * _hidden, _hidden), cls));
        var logits = new float[_classes];
        for (int c = 0; c < _classes; c++)
            logits[c] = _classifierBias[c] + Dot(_classifierWeight.AsSpan(c * _hidden, _hidden), pooled);
        return InferenceEngine.Softmax(logits);
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float sum = 0;
        for (int i = 0; i < a.Length; i++)
            sum += a[i] * b[i];
        return sum;
    }
}
