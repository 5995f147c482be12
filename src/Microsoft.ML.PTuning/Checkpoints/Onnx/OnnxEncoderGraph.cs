using System.Globalization;
using System.Text.RegularExpressions;
using OnnxDataType = Microsoft.ML.PTuning.Checkpoints.Onnx.TensorProto.Types.DataType;

namespace Microsoft.ML.PTuning.Checkpoints;

/// <summary>
/// Recovers a Hugging Face BERT/RoBERTa encoder (<c>BertModel</c>/<c>RobertaModel</c> names and config) from an ONNX
/// export of it, such as <c>torch.onnx.export</c> of a transformers model.
/// </summary>
/// <remarks>
/// Rules, in the order they are applied:
/// <list type="bullet">
/// <item>Names: float initializers named like HF (<c>embeddings.*</c>, <c>encoder.*</c>, <c>pooler.*</c>, with a leading
/// <c>bert.</c>/<c>roberta.</c> stripped) are used as they are. A <c>MatMul</c> whose B input is an initializer is a
/// linear layer stored <c>[in, out]</c>: the <c>Add</c> consuming its output with a named <c>X.bias</c> initializer
/// names it <c>X.weight</c>, transposed to <c>[out, in]</c>. A <c>Gemm</c> follows its <c>transB</c> attribute.</item>
/// <item>num_attention_heads: the <c>Reshape</c> of layer 0's query projection to <c>[batch, seq, heads, head_dim]</c>
/// (its shape input is a constant or a <c>Concat</c> whose last parts are constants); failing that, the attention-score
/// scale (<c>Div</c> by √head_dim or <c>Mul</c> by 1/√head_dim after a <c>MatMul</c> of two computed values).</item>
/// <item>layer_norm_eps: the <c>epsilon</c> of a <c>LayerNormalization</c> node, or, for a decomposed layer norm, the
/// scalar added before the <c>Sqrt</c> that the embeddings' <c>LayerNorm.weight</c> multiplication depends on.</item>
/// <item>hidden_act: what follows layer 0's <c>intermediate.dense</c> up to the next <c>MatMul</c>: <c>Erf</c> (or
/// exact <c>Gelu</c>) → gelu; <c>Tanh</c> (or tanh <c>Gelu</c>/<c>FastGelu</c>) → gelu_new; <c>Relu</c> → relu;
/// <c>Sigmoid</c> → silu.</item>
/// <item>model_type: roberta when weights carry a <c>roberta.</c> prefix, or the graph computes position ids with
/// <c>CumSum</c> (RoBERTa's running count of non-pad tokens; pad id from the <c>Equal</c> against input_ids, else 1), or
/// the position table has 514 rows with a single token type (RoBERTa's padding_idx + 1 offset); otherwise bert.</item>
/// </list>
/// </remarks>
internal static class OnnxEncoderGraph
{
    private static readonly Regex LayerIndex = new(@"^encoder\.layer\.(\d+)\.", RegexOptions.CultureInvariant);

    public static ImportedEncoder Analyze(OnnxGraph graph)
    {
        bool robertaPrefix = graph.Initializers.Keys.Any(n => n.StartsWith("roberta.", StringComparison.Ordinal));
        Dictionary<string, ImportedTensor> tensors = NameTensors(graph);

        ImportedTensor Required(string name) => tensors.TryGetValue(name, out ImportedTensor? t)
            ? t
            : throw new InvalidDataException($"The ONNX graph has no tensor for '{name}'; it does not look like a BERT/RoBERTa encoder export.");

        long[] words = Required("embeddings.word_embeddings.weight").Shape;
        long[] positions = Required("embeddings.position_embeddings.weight").Shape;
        long[] types = Required("embeddings.token_type_embeddings.weight").Shape;
        if (words.Length != 2 || positions.Length != 2 || types.Length != 2)
        {
            throw new InvalidDataException(
                $"The ONNX graph's embedding tables must be matrices; got word [{string.Join(",", words)}], position [{string.Join(",", positions)}], token type [{string.Join(",", types)}].");
        }
        int hidden = checked((int)words[1]);
        int[] layerIndices = tensors.Keys.Select(n => LayerIndex.Match(n)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).Distinct().Order().ToArray();
        if (layerIndices.Length == 0)
        {
            throw new InvalidDataException("The ONNX graph has no 'encoder.layer.N.*' tensors.");
        }
        int layers = layerIndices[^1] + 1;
        long[] intermediateShape = Required("encoder.layer.0.intermediate.dense.weight").Shape;
        int intermediate = checked((int)intermediateShape[0]);
        bool pooler = tensors.ContainsKey("pooler.dense.weight") || tensors.ContainsKey("pooler.dense.bias");

        Dictionary<string, long[]> expected = ExpectedShapes(layers, words[0], hidden, positions[0], types[0], intermediate, pooler);
        CheckTensorSet(tensors, expected);

        int heads = InferHeads(graph, OutputOfBiasAdd(graph, Required("encoder.layer.0.attention.self.query.bias")), hidden);
        double eps = InferLayerNormEps(graph, Required("embeddings.LayerNorm.weight").Source.Name);
        string act = InferActivation(graph, OutputOfBiasAdd(graph, Required("encoder.layer.0.intermediate.dense.bias")));

        bool cumSum = graph.Nodes.Any(n => n.OpType == "CumSum");
        bool roberta = robertaPrefix || cumSum || (positions[0] == 514 && types[0] == 1);
        int? pad = roberta ? RobertaPadId(graph) ?? 1 : null;

        return new ImportedEncoder(
            roberta ? "roberta" : "bert", checked((int)words[0]), hidden, layers, heads, intermediate, act,
            checked((int)positions[0]), checked((int)types[0]), eps, pad,
            expected.Keys.Select(k => tensors[k]).ToList());
    }

    /// <summary>Every tensor of an HF BertModel/RobertaModel with its shape.</summary>
    internal static Dictionary<string, long[]> ExpectedShapes(int layers, long vocab, long hidden, long positions, long types, long intermediate, bool pooler)
    {
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal)
        {
            ["embeddings.word_embeddings.weight"] = new[] { vocab, hidden },
            ["embeddings.position_embeddings.weight"] = new[] { positions, hidden },
            ["embeddings.token_type_embeddings.weight"] = new[] { types, hidden },
            ["embeddings.LayerNorm.weight"] = new[] { hidden },
            ["embeddings.LayerNorm.bias"] = new[] { hidden },
        };
        void Linear(string prefix, long output, long input)
        {
            shapes[prefix + ".weight"] = new[] { output, input };
            shapes[prefix + ".bias"] = new[] { output };
        }
        void Norm(string prefix)
        {
            shapes[prefix + ".weight"] = new[] { hidden };
            shapes[prefix + ".bias"] = new[] { hidden };
        }
        for (int i = 0; i < layers; i++)
        {
            string layer = $"encoder.layer.{i}.";
            Linear(layer + "attention.self.query", hidden, hidden);
            Linear(layer + "attention.self.key", hidden, hidden);
            Linear(layer + "attention.self.value", hidden, hidden);
            Linear(layer + "attention.output.dense", hidden, hidden);
            Norm(layer + "attention.output.LayerNorm");
            Linear(layer + "intermediate.dense", intermediate, hidden);
            Linear(layer + "output.dense", hidden, intermediate);
            Norm(layer + "output.LayerNorm");
        }
        if (pooler)
        {
            Linear("pooler.dense", hidden, hidden);
        }
        return shapes;
    }

    private static string HfName(string onnxName)
    {
        foreach (string prefix in new[] { "bert.", "roberta." })
        {
            if (onnxName.StartsWith(prefix, StringComparison.Ordinal))
            {
                return onnxName.Substring(prefix.Length);
            }
        }
        return onnxName;
    }

    private static bool LooksLikeHfName(string hfName) =>
        (hfName.StartsWith("embeddings.", StringComparison.Ordinal) || hfName.StartsWith("encoder.", StringComparison.Ordinal)
            || hfName.StartsWith("pooler.", StringComparison.Ordinal))
        && (hfName.EndsWith(".weight", StringComparison.Ordinal) || hfName.EndsWith(".bias", StringComparison.Ordinal));

    private static Dictionary<string, ImportedTensor> NameTensors(OnnxGraph graph)
    {
        var byName = new Dictionary<string, ImportedTensor>(StringComparer.Ordinal);
        foreach (OnnxTensor t in graph.Initializers.Values)
        {
            string hf = HfName(t.Name);
            if (t.DataType == OnnxDataType.Float && LooksLikeHfName(hf))
            {
                byName[hf] = new ImportedTensor(hf, t, Transposed: false);
            }
        }
        foreach (OnnxNode node in graph.Nodes)
        {
            ImportedTensor? weight = node.OpType switch
            {
                "MatMul" => MatMulWeight(graph, node),
                "Gemm" => GemmWeight(graph, node),
                _ => null,
            };
            if (weight == null)
            {
                continue;
            }
            if (byName.TryGetValue(weight.Name, out ImportedTensor? other) && other.Source != weight.Source)
            {
                throw new InvalidDataException(
                    $"ONNX node {node.DisplayName} names its weight '{weight.Name}' (from its bias), but initializer '{other.Source.Name}' already has that name.");
            }
            byName[weight.Name] = weight;
        }
        return byName;
    }

    private static ImportedTensor? MatMulWeight(OnnxGraph graph, OnnxNode node)
    {
        if (node.Inputs.Length != 2 || !graph.Initializers.TryGetValue(node.Inputs[1], out OnnxTensor? b) || graph.Initializers.ContainsKey(node.Inputs[0]))
        {
            return null;
        }
        if (b.Dims.Length != 2 || b.DataType != OnnxDataType.Float)
        {
            throw new InvalidDataException($"ONNX node {node.DisplayName} multiplies by initializer '{b.Name}' {b.ShapeText} of {b.DataType}; a float32 matrix was expected.");
        }
        string? bias = node.Outputs.Length == 1 ? BiasAddedTo(graph, node.Outputs[0]) : null;
        if (bias == null)
        {
            throw new InvalidDataException(
                $"ONNX node {node.DisplayName} multiplies by initializer '{b.Name}' {b.ShapeText}, but no Add of a named '*.bias' initializer consumes its output "
                + $"'{string.Join("', '", node.Outputs)}', so the weight's Hugging Face name cannot be recovered.");
        }
        return new ImportedTensor(bias[..^".bias".Length] + ".weight", b, Transposed: true);
    }

    private static ImportedTensor? GemmWeight(OnnxGraph graph, OnnxNode node)
    {
        if (node.Inputs.Length < 2 || !graph.Initializers.TryGetValue(node.Inputs[1], out OnnxTensor? b) || b.Dims.Length != 2)
        {
            return null;
        }
        bool transposeB = node.Attributes.TryGetValue("transB", out OnnxAttribute? t) && t.Int == 1;
        string hf = HfName(b.Name);
        if (!LooksLikeHfName(hf))
        {
            string? bias = node.Inputs.Length > 2 && graph.Initializers.ContainsKey(node.Inputs[2]) ? HfName(node.Inputs[2]) : null;
            if (bias == null || !bias.EndsWith(".bias", StringComparison.Ordinal))
            {
                throw new InvalidDataException(
                    $"ONNX node {node.DisplayName} multiplies by unnamed initializer '{b.Name}' {b.ShapeText} and has no named '*.bias' input C, so the weight's Hugging Face name cannot be recovered.");
            }
            hf = bias[..^".bias".Length] + ".weight";
        }
        // HF keeps Linear weights [out, in]; Gemm computes A·Bᵀ with transB = 1, so B is already [out, in] then.
        return new ImportedTensor(hf, b, Transposed: !transposeB);
    }

    /// <summary>The HF name of the '*.bias' initializer an Add adds to <paramref name="value"/>, or null.</summary>
    private static string? BiasAddedTo(OnnxGraph graph, string value)
    {
        foreach (OnnxNode add in graph.Consumers(value).Where(n => n.OpType == "Add" && n.Inputs.Length == 2))
        {
            string other = add.Inputs[0] == value ? add.Inputs[1] : add.Inputs[0];
            if (graph.Initializers.TryGetValue(other, out OnnxTensor? bias) && HfName(bias.Name).EndsWith(".bias", StringComparison.Ordinal))
            {
                return HfName(bias.Name);
            }
        }
        return null;
    }

    /// <summary>The output of the node that adds the bias initializer (the linear layer's result).</summary>
    private static string OutputOfBiasAdd(OnnxGraph graph, ImportedTensor bias)
    {
        OnnxNode? add = graph.Consumers(bias.Source.Name).FirstOrDefault(n => n.OpType is "Add" or "Gemm");
        return add?.Outputs[0]
            ?? throw new InvalidDataException($"No Add or Gemm node of the ONNX graph uses bias '{bias.Source.Name}'.");
    }

    private static void CheckTensorSet(Dictionary<string, ImportedTensor> tensors, Dictionary<string, long[]> expected)
    {
        string[] missing = expected.Keys.Where(k => !tensors.ContainsKey(k)).ToArray();
        string[] wrongShape = expected.Where(kv => tensors.TryGetValue(kv.Key, out ImportedTensor? t) && !t.Shape.SequenceEqual(kv.Value))
            .Select(kv => $"'{kv.Key}' is [{string.Join(",", tensors[kv.Key].Shape)}], expected [{string.Join(",", kv.Value)}]")
            .ToArray();
        if (missing.Length > 0 || wrongShape.Length > 0)
        {
            throw new InvalidDataException(
                "The ONNX graph does not hold a complete, consistent BERT/RoBERTa encoder."
                + (missing.Length > 0 ? $" Missing tensors ({missing.Length}): {string.Join(", ", missing)}." : "")
                + (wrongShape.Length > 0 ? $" Inconsistent shapes: {string.Join("; ", wrongShape)}." : ""));
        }
    }

    private static int InferHeads(OnnxGraph graph, string queryOutput, int hidden)
    {
        foreach (OnnxNode reshape in graph.Consumers(queryOutput).Where(n => n.OpType == "Reshape" && n.Inputs[0] == queryOutput && n.Inputs.Length > 1))
        {
            long?[] dims = ShapeConstants(graph, reshape.Inputs[1]);
            if (dims.Length != 4)
            {
                continue;
            }
            long? heads = dims[2] > 0 ? dims[2] : null;
            long? headDim = dims[3] > 0 ? dims[3] : null;
            if (heads is long h && headDim is long d)
            {
                if (h * d == hidden)
                {
                    return (int)h;
                }
            }
            else if (headDim is long d2 && hidden % d2 == 0)
            {
                return (int)(hidden / d2);
            }
            else if (heads is long h2 && hidden % h2 == 0)
            {
                return (int)h2;
            }
        }
        foreach (OnnxNode node in graph.Nodes.Where(n => n.OpType is "Div" or "Mul" && n.Inputs.Length == 2))
        {
            OnnxNode? scores = graph.Producer(node.Inputs[0]);
            OnnxTensor? scale = graph.Constant(node.Inputs[1]);
            if (scores is not { OpType: "MatMul" } || scores.Inputs.Any(graph.Initializers.ContainsKey) || scale is not { ElementCount: 1 })
            {
                continue;
            }
            double c = scale.ToDoubles()[0];
            double headDim = node.OpType == "Div" ? c * c : 1 / (c * c);
            long rounded = (long)Math.Round(headDim);
            if (rounded > 0 && Math.Abs(headDim - rounded) < 1e-3 * rounded && hidden % rounded == 0)
            {
                return (int)(hidden / rounded);
            }
        }
        throw new InvalidDataException(
            $"Cannot infer num_attention_heads: the query projection '{queryOutput}' is not reshaped to [batch, seq, heads, head_dim] with constant sizes, "
            + "and no attention-score scale by √head_dim was found.");
    }

    /// <summary>The constant entries of a shape operand (a constant tensor, or a Concat of parts); null where computed at run time.</summary>
    private static long?[] ShapeConstants(OnnxGraph graph, string value)
    {
        if (graph.Constant(value) is { } constant)
        {
            return constant.ToInt64s().Select(v => (long?)v).ToArray();
        }
        OnnxNode? concat = graph.Producer(value);
        if (concat is not { OpType: "Concat" })
        {
            return Array.Empty<long?>();
        }
        var parts = new List<long?>();
        foreach (string part in concat.Inputs)
        {
            OnnxTensor? c = graph.Constant(part);
            OnnxNode? producer = graph.Producer(part);
            if (c == null && producer is { OpType: "Unsqueeze" })
            {
                c = graph.Constant(producer.Inputs[0]);
            }
            if (c != null)
            {
                parts.AddRange(c.ToInt64s().Select(v => (long?)v));
            }
            else
            {
                parts.Add(null);
            }
        }
        return parts.ToArray();
    }

    private static double InferLayerNormEps(OnnxGraph graph, string normWeight)
    {
        foreach (OnnxNode node in graph.Consumers(normWeight))
        {
            if (node.OpType is "LayerNormalization" or "SkipLayerNormalization" or "SimplifiedLayerNormalization")
            {
                return node.Attributes.TryGetValue("epsilon", out OnnxAttribute? e) && e.Float is float f ? Shortest(f) : 1e-5;
            }
            if (node.OpType != "Mul")
            {
                continue;
            }
            // Decomposed: (x - mean) / Sqrt(var + eps) * weight + bias. Walk back from the Mul to the Sqrt.
            var frontier = new List<string>(node.Inputs.Where(i => i != normWeight));
            for (int depth = 0; depth < 4 && frontier.Count > 0; depth++)
            {
                var next = new List<string>();
                foreach (OnnxNode producer in frontier.Select(graph.Producer).OfType<OnnxNode>())
                {
                    if (producer.OpType == "Sqrt" && graph.Producer(producer.Inputs[0]) is { OpType: "Add" } add)
                    {
                        OnnxTensor? eps = add.Inputs.Select(graph.Constant).FirstOrDefault(c => c is { ElementCount: 1 });
                        if (eps != null)
                        {
                            double v = eps.ToDoubles()[0];
                            return eps.DataType == OnnxDataType.Float ? Shortest((float)v) : v;
                        }
                    }
                    next.AddRange(producer.Inputs);
                }
                frontier = next;
            }
        }
        throw new InvalidDataException(
            $"Cannot infer layer_norm_eps: '{normWeight}' is used neither by a LayerNormalization node nor by a decomposed layer norm (Add of a constant before Sqrt).");
    }

    /// <summary>The shortest decimal that round-trips a float32, as a double: 1e-12, not 9.99999996e-13.</summary>
    private static double Shortest(float value) => double.Parse(value.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private static string InferActivation(OnnxGraph graph, string intermediateOutput)
    {
        var ops = new List<OnnxNode>();
        var seen = new HashSet<OnnxNode>();
        var frontier = new List<string> { intermediateOutput };
        for (int depth = 0; depth < 8 && frontier.Count > 0; depth++)
        {
            var next = new List<string>();
            foreach (OnnxNode consumer in frontier.SelectMany(graph.Consumers).Where(seen.Add))
            {
                if (consumer.OpType is "MatMul" or "Gemm")
                {
                    continue; // the next linear layer: the activation lies before it
                }
                ops.Add(consumer);
                next.AddRange(consumer.Outputs);
            }
            frontier = next;
        }
        bool Has(string op) => ops.Any(n => n.OpType == op);
        bool TanhGelu(OnnxNode n) => n.OpType == "Gelu" && n.Attributes.TryGetValue("approximate", out OnnxAttribute? a) && a.String == "tanh";
        if (Has("Erf") || Has("BiasGelu") || ops.Any(n => n.OpType == "Gelu" && !TanhGelu(n)))
        {
            return "gelu";
        }
        if (Has("Tanh") || Has("FastGelu") || ops.Any(TanhGelu))
        {
            return "gelu_new";
        }
        if (Has("Relu"))
        {
            return "relu";
        }
        if (Has("Sigmoid"))
        {
            return "silu";
        }
        throw new InvalidDataException(
            $"Cannot infer hidden_act: between '{intermediateOutput}' and the next MatMul the ONNX graph has only [{string.Join(", ", ops.Select(n => n.OpType).Distinct())}]; "
            + "expected Erf (gelu), Tanh (gelu_new), Relu or Sigmoid.");
    }

    /// <summary>The id RoBERTa's position computation compares input_ids with (input_ids != padding_idx), if the graph shows it.</summary>
    private static int? RobertaPadId(OnnxGraph graph)
    {
        foreach (OnnxNode node in graph.Consumers("input_ids").Where(n => n.OpType is "Equal" or "Not" or "Sub"))
        {
            OnnxTensor? c = node.Inputs.Select(graph.Constant).FirstOrDefault(t => t is { ElementCount: 1 });
            if (c != null)
            {
                return (int)c.ToDoubles()[0];
            }
        }
        return null;
    }
}
