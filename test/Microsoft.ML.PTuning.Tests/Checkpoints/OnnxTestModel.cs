using Google.Protobuf;

namespace Microsoft.ML.PTuning.Tests.Checkpoints;

/// <summary>
/// Writes small ONNX models (ModelProto bytes) field by field with <see cref="CodedOutputStream"/>, to test the
/// importer on graphs made for the purpose. Field numbers as in onnx/onnx.proto.
/// </summary>
internal sealed class OnnxTestModel
{
    private readonly List<byte[]> _nodes = new();
    private readonly List<byte[]> _initializers = new();
    private readonly List<byte[]> _outputs = new();

    public OnnxTestModel Node(string name, string opType, string[] inputs, string[] outputs, params byte[][] attributes)
    {
        _nodes.Add(Message(o =>
        {
            foreach (string input in inputs)
            {
                String(o, 1, input);
            }
            foreach (string output in outputs)
            {
                String(o, 2, output);
            }
            String(o, 3, name);
            String(o, 4, opType);
            foreach (byte[] attribute in attributes)
            {
                Bytes(o, 5, attribute);
            }
        }));
        return this;
    }

    /// <summary>A float32 initializer, as raw_data (default) or as packed float_data.</summary>
    public OnnxTestModel Float(string name, long[] dims, float[] values, bool asRawData = true) =>
        Initializer(name, dims, 1, o =>
        {
            if (asRawData)
            {
                Bytes(o, 9, values.SelectMany(BitConverter.GetBytes).ToArray());
            }
            else
            {
                Bytes(o, 4, Message(p => Array.ForEach(values, p.WriteFloat)));
            }
        });

    public OnnxTestModel Int64(string name, params long[] values) =>
        Initializer(name, new long[] { values.Length }, 7, o => Bytes(o, 7, Message(p => Array.ForEach(values, p.WriteInt64))));

    /// <summary>A float32 initializer whose data lies in an external file (unsupported by the importer).</summary>
    public OnnxTestModel ExternalFloat(string name, long[] dims) =>
        Initializer(name, dims, 1, o =>
        {
            Bytes(o, 13, Message(p => { String(p, 1, "location"); String(p, 2, "weights.bin"); }));
            o.WriteTag(14, WireFormat.WireType.Varint);
            o.WriteInt32(1);
        });

    public OnnxTestModel Output(string name)
    {
        _outputs.Add(FloatValueInfo(name));
        return this;
    }

    public byte[] ToBytes() => Message(o =>
    {
        o.WriteTag(1, WireFormat.WireType.Varint);
        o.WriteInt64(7); // ir_version
        Bytes(o, 8, Message(p => { String(p, 1, ""); p.WriteTag(2, WireFormat.WireType.Varint); p.WriteInt64(13); }));
        Bytes(o, 7, Graph(_nodes, _initializers, _outputs));
    });

    /// <summary>
    /// ModelProto bytes that, appended to a serialized model, add graph outputs: protobuf merges concatenated messages
    /// and appends repeated fields, so ONNX Runtime then also returns these intermediate float values.
    /// </summary>
    public static byte[] ExtraOutputs(params string[] names) =>
        Message(o => Bytes(o, 7, Graph(new List<byte[]>(), new List<byte[]>(), names.Select(FloatValueInfo).ToList())));

    public static byte[] FloatAttribute(string name, float value) => Attribute(name, 1, 2, WireFormat.WireType.Fixed32, o => o.WriteFloat(value));

    /// <summary>AttributeProto{name, type (field 20), one value field}.</summary>
    private static byte[] Attribute(string name, int type, int valueField, WireFormat.WireType wireType, Action<CodedOutputStream> writeValue) => Message(o =>
    {
        String(o, 1, name);
        o.WriteTag(valueField, wireType);
        writeValue(o);
        o.WriteTag(20, WireFormat.WireType.Varint);
        o.WriteInt32(type);
    });

    public OnnxTestModel Initializer(string name, long[] dims, int dataType, Action<CodedOutputStream> data)
    {
        _initializers.Add(Message(o =>
        {
            Bytes(o, 1, Message(p => Array.ForEach(dims, p.WriteInt64)));
            o.WriteTag(2, WireFormat.WireType.Varint);
            o.WriteInt32(dataType);
            String(o, 8, name);
            data(o);
        }));
        return this;
    }

    private static byte[] Graph(List<byte[]> nodes, List<byte[]> initializers, List<byte[]> outputs) => Message(o =>
    {
        nodes.ForEach(n => Bytes(o, 1, n));
        initializers.ForEach(i => Bytes(o, 5, i));
        outputs.ForEach(v => Bytes(o, 12, v));
    });

    /// <summary>ValueInfoProto{name, type: TypeProto{tensor_type: {elem_type: FLOAT}}}.</summary>
    private static byte[] FloatValueInfo(string name) => Message(o =>
    {
        String(o, 1, name);
        Bytes(o, 2, Message(t => Bytes(t, 1, Message(tensor => { tensor.WriteTag(1, WireFormat.WireType.Varint); tensor.WriteInt32(1); }))));
    });

    public static void String(CodedOutputStream o, int field, string value)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteString(value);
    }

    public static void Bytes(CodedOutputStream o, int field, byte[] payload)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(ByteString.CopyFrom(payload));
    }

    public static byte[] Message(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        using (var output = new CodedOutputStream(buffer, leaveOpen: true))
        {
            write(output);
        }
        return buffer.ToArray();
    }
}
