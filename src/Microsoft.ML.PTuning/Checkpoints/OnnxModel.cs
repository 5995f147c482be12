using System.Buffers.Binary;

namespace Microsoft.ML.PTuning.Checkpoints;

/// <summary>ONNX <c>TensorProto.DataType</c> values this reader knows by name.</summary>
internal enum OnnxDataType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    UInt32 = 12,
    UInt64 = 13,
    BFloat16 = 16,
}

/// <summary>
/// One ONNX tensor (an initializer or a <c>Constant</c> node's value). Float data stays a slice of the model's buffer
/// (little-endian, as <c>raw_data</c> and packed <c>float_data</c> both store it), so reading a model copies no weights.
/// </summary>
internal sealed class OnnxTensor
{
    internal OnnxTensor(string name, long[] dims, OnnxDataType dataType, ReadOnlyMemory<byte> littleEndianData, long[]? int64Values)
    {
        Name = name;
        Dims = dims;
        DataType = dataType;
        LittleEndianData = littleEndianData;
        Int64Values = int64Values;
    }

    /// <summary>The tensor's name in the graph ("" for a nameless constant).</summary>
    public string Name { get; }

    public long[] Dims { get; }

    public OnnxDataType DataType { get; }

    /// <summary>Fixed-width little-endian elements (from raw_data or packed float_data); empty when the values came as varints.</summary>
    public ReadOnlyMemory<byte> LittleEndianData { get; }

    /// <summary>Integer values given as varints (int64_data / int32_data), else null.</summary>
    public long[]? Int64Values { get; }

    public long ElementCount => Dims.Aggregate(1L, (n, d) => n * d);

    public string ShapeText => "[" + string.Join(",", Dims) + "]";

    /// <summary>The float32 elements, little-endian bytes; throws when the tensor is not float32 or its size disagrees with its shape.</summary>
    public ReadOnlySpan<byte> Float32Bytes
    {
        get
        {
            if (DataType != OnnxDataType.Float)
            {
                throw new InvalidDataException($"ONNX tensor '{Name}' has data type {DataType}; float32 was expected.");
            }
            if (LittleEndianData.Length != ElementCount * sizeof(float))
            {
                throw new InvalidDataException(
                    $"ONNX tensor '{Name}' {ShapeText} holds {LittleEndianData.Length} bytes of float32 data; {ElementCount * sizeof(float)} were expected.");
            }
            return LittleEndianData.Span;
        }
    }

    /// <summary>The elements as doubles (for scalar constants: scales, epsilons); float, double and integer types.</summary>
    public double[] ToDoubles()
    {
        ReadOnlySpan<byte> data = LittleEndianData.Span;
        switch (DataType)
        {
            case OnnxDataType.Float:
                var floats = new double[data.Length / 4];
                for (int i = 0; i < floats.Length; i++)
                {
                    floats[i] = BinaryPrimitives.ReadSingleLittleEndian(data.Slice(4 * i));
                }
                return floats;
            case OnnxDataType.Double:
                var doubles = new double[data.Length / 8];
                for (int i = 0; i < doubles.Length; i++)
                {
                    doubles[i] = BinaryPrimitives.ReadDoubleLittleEndian(data.Slice(8 * i));
                }
                return doubles;
            default:
                return Array.ConvertAll(ToInt64s(), v => (double)v);
        }
    }

    /// <summary>The elements as 64-bit integers (for shape constants); int64 and int32 types.</summary>
    public long[] ToInt64s()
    {
        if (Int64Values != null)
        {
            return Int64Values;
        }
        ReadOnlySpan<byte> data = LittleEndianData.Span;
        int width = DataType switch
        {
            OnnxDataType.Int64 => 8,
            OnnxDataType.Int32 => 4,
            _ => throw new InvalidDataException($"ONNX tensor '{Name}' has data type {DataType}; an integer tensor was expected."),
        };
        var values = new long[data.Length / width];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = width == 8 ? BinaryPrimitives.ReadInt64LittleEndian(data.Slice(8 * i)) : BinaryPrimitives.ReadInt32LittleEndian(data.Slice(4 * i));
        }
        return values;
    }
}

/// <summary>An ONNX node attribute; only the scalar, tensor and list kinds this importer reads are kept.</summary>
internal sealed record OnnxAttribute(string Name, float? Float, long? Int, string? String, OnnxTensor? Tensor, float[] Floats, long[] Ints);

/// <summary>An ONNX graph node.</summary>
internal sealed record OnnxNode(string Name, string OpType, string Domain, string[] Inputs, string[] Outputs, IReadOnlyDictionary<string, OnnxAttribute> Attributes)
{
    /// <summary>The node's name, or a description when it has none, for error messages.</summary>
    public string DisplayName => Name.Length > 0 ? $"'{Name}' ({OpType})" : $"{OpType} node producing '{string.Join("', '", Outputs)}'";
}

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

/// <summary>An ONNX model: the parts of <c>ModelProto</c> the importer reads.</summary>
internal sealed record OnnxModel(long IrVersion, IReadOnlyDictionary<string, long> OpsetImports, OnnxGraph Graph);
