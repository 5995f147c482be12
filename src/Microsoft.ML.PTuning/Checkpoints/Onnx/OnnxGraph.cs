using System.Buffers.Binary;
using OnnxDataType = Microsoft.ML.PTuning.Checkpoints.Onnx.TensorProto.Types.DataType;

namespace Microsoft.ML.PTuning.Checkpoints;

/// <summary>The main graph of an ONNX model, with the look-ups graph analysis needs.</summary>
internal sealed class OnnxGraph
{
    private readonly Dictionary<string, OnnxNode> _producers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<OnnxNode>> _consumers = new(StringComparer.Ordinal);

    internal OnnxGraph(IReadOnlyList<OnnxNode> nodes, IReadOnlyList<OnnxTensor> initializers, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs)
    {
        Nodes = nodes;
        Inputs = inputs;
        Outputs = outputs;
        var byName = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        foreach (OnnxTensor t in initializers)
        {
            if (!byName.TryAdd(t.Name, t))
            {
                throw new InvalidDataException($"ONNX graph holds two initializers named '{t.Name}'.");
            }
        }
        Initializers = byName;
        foreach (OnnxNode node in nodes)
        {
            foreach (string output in node.Outputs.Where(o => o.Length > 0))
            {
                _producers[output] = node;
            }
            foreach (string input in node.Inputs.Where(i => i.Length > 0).Distinct())
            {
                if (!_consumers.TryGetValue(input, out List<OnnxNode>? list))
                {
                    _consumers[input] = list = new List<OnnxNode>();
                }
                list.Add(node);
            }
        }
    }

    public IReadOnlyList<OnnxNode> Nodes { get; }

    /// <summary>Initializers by name.</summary>
    public IReadOnlyDictionary<string, OnnxTensor> Initializers { get; }

    /// <summary>Names of the graph inputs (initializers listed as inputs included, as older exporters do).</summary>
    public IReadOnlyList<string> Inputs { get; }

    public IReadOnlyList<string> Outputs { get; }

    public OnnxNode? Producer(string value) => _producers.GetValueOrDefault(value);

    public IReadOnlyList<OnnxNode> Consumers(string value) =>
        _consumers.TryGetValue(value, out List<OnnxNode>? list) ? list : Array.Empty<OnnxNode>();

    /// <summary>The constant behind a value: an initializer, or the value of a <c>Constant</c> node; null when it is computed.</summary>
    public OnnxTensor? Constant(string value)
    {
        if (Initializers.TryGetValue(value, out OnnxTensor? init))
        {
            return init;
        }
        OnnxNode? producer = Producer(value);
        if (producer is not { OpType: "Constant" })
        {
            return null;
        }
        foreach (OnnxAttribute a in producer.Attributes.Values)
        {
            switch (a.Name)
            {
                case "value" when a.Tensor != null:
                    return a.Tensor;
                case "value_float" when a.Float != null:
                    return OnnxProtoReader.Float32Tensor(value, new[] { a.Float.Value }, Array.Empty<long>());
                case "value_floats":
                    return OnnxProtoReader.Float32Tensor(value, a.Floats, new long[] { a.Floats.Length });
                case "value_int" when a.Int != null:
                    return new OnnxTensor(value, Array.Empty<long>(), OnnxDataType.Int64, ReadOnlyMemory<byte>.Empty, new[] { a.Int.Value });
                case "value_ints":
                    return new OnnxTensor(value, new long[] { a.Ints.Length }, OnnxDataType.Int64, ReadOnlyMemory<byte>.Empty, a.Ints);
            }
        }
        return null;
    }
}
