using System.Runtime.InteropServices;
using System.Text;
using Google.Protobuf;

namespace Microsoft.ML.PTuning.Checkpoints;

/// <summary>
/// Reads the parts of an ONNX model (onnx.proto) the encoder importer needs, with Google.Protobuf's
/// <see cref="CodedInputStream"/> and no generated code. Unknown fields are skipped. The whole model is held in one
/// byte array and tensors keep slices of it, so a model costs its own size in memory once.
/// </summary>
/// <remarks>
/// Field numbers (onnx/onnx.proto): ModelProto ir_version=1, graph=7, opset_import=8; OperatorSetIdProto domain=1,
/// version=2; GraphProto node=1, initializer=5, input=11, output=12; ValueInfoProto name=1; NodeProto input=1,
/// output=2, name=3, op_type=4, attribute=5, domain=7; AttributeProto name=1, f=2, i=3, s=4, t=5, floats=7, ints=8;
/// TensorProto dims=1, data_type=2, float_data=4, int32_data=5, int64_data=7, name=8, raw_data=9, double_data=10,
/// uint64_data=11, external_data=13, data_location=14.
/// </remarks>
internal static class OnnxProtoReader
{
    private const string What = "ONNX model";

    /// <summary>
    /// Reads a whole ONNX model from a stream (from its current position to its end). Errors about a tensor name
    /// <paramref name="source"/>, by default the file of a <see cref="FileStream"/>.
    /// </summary>
    public static OnnxModel Read(Stream stream, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArraySegment<byte> bytes = ReadAll(stream);
        return Parse(bytes.Array!, bytes.Offset, bytes.Count, source ?? (stream as FileStream)?.Name);
    }

    /// <summary>
    /// Parses an ONNX <c>ModelProto</c> held in <paramref name="buffer"/>[offset, offset+length); <paramref name="source"/>
    /// (a file name) is named in errors about a tensor.
    /// </summary>
    public static OnnxModel Parse(byte[] buffer, int offset, int length, string? source = null)
    {
        source = source is null ? "ONNX model" : $"ONNX model '{source}'";
        if (length == 0)
        {
            throw new InvalidDataException($"The {What} stream is empty.");
        }
        try
        {
            long irVersion = 0;
            var opsets = new Dictionary<string, long>(StringComparer.Ordinal);
            OnnxGraph? graph = null;
            foreach (Field f in Fields(new Slice(buffer, offset, length)))
            {
                switch (f.Number)
                {
                    case 1 when f.IsVarint:
                        irVersion = (long)f.Scalar;
                        break;
                    case 7 when f.IsBytes:
                        graph = ReadGraph(f.Bytes, source);
                        break;
                    case 8 when f.IsBytes:
                        (string domain, long version) = ReadOpset(f.Bytes);
                        opsets[domain] = version;
                        break;
                }
            }
            if (graph == null)
            {
                throw new InvalidDataException($"The {What} holds no graph (ModelProto field 7); the stream is not an ONNX model.");
            }
            return new OnnxModel(irVersion, opsets, graph);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"The {What} stream is not a valid ONNX protobuf message (truncated or corrupt): {e.Message}", e);
        }
    }

    /// <summary>A float32 tensor built from values (for attribute-valued constants).</summary>
    internal static OnnxTensor Float32Tensor(string name, float[] values, long[] dims) =>
        new(name, dims, OnnxDataType.Float, MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), null);

    private static ArraySegment<byte> ReadAll(Stream stream)
    {
        if (stream is MemoryStream memory && memory.TryGetBuffer(out ArraySegment<byte> exposed))
        {
            int position = checked((int)memory.Position);
            return exposed.Slice(position, exposed.Count - position);
        }
        if (stream.CanSeek)
        {
            long remaining = stream.Length - stream.Position;
            if (remaining > Array.MaxLength)
            {
                throw new InvalidDataException(
                    $"The {What} is {remaining} bytes; models over {Array.MaxLength} bytes keep their weights as external data, which this importer does not support.");
            }
            var buffer = new byte[remaining];
            stream.ReadExactly(buffer);
            return buffer;
        }
        var copy = new MemoryStream();
        stream.CopyTo(copy);
        return new ArraySegment<byte>(copy.GetBuffer(), 0, checked((int)copy.Length));
    }

    private static (string Domain, long Version) ReadOpset(Slice s)
    {
        string domain = "";
        long version = 0;
        foreach (Field f in Fields(s))
        {
            switch (f.Number)
            {
                case 1 when f.IsBytes:
                    domain = f.Bytes.Utf8();
                    break;
                case 2 when f.IsVarint:
                    version = (long)f.Scalar;
                    break;
            }
        }
        return (domain, version);
    }

    private static OnnxGraph ReadGraph(Slice s, string source)
    {
        var nodes = new List<OnnxNode>();
        var initializers = new List<OnnxTensor>();
        var inputs = new List<string>();
        var outputs = new List<string>();
        foreach (Field f in Fields(s))
        {
            switch (f.Number)
            {
                case 1 when f.IsBytes:
                    nodes.Add(ReadNode(f.Bytes, source));
                    break;
                case 5 when f.IsBytes:
                    initializers.Add(ReadTensor(f.Bytes, source, "initializer"));
                    break;
                case 11 when f.IsBytes:
                    inputs.Add(ReadValueInfoName(f.Bytes));
                    break;
                case 12 when f.IsBytes:
                    outputs.Add(ReadValueInfoName(f.Bytes));
                    break;
            }
        }
        return new OnnxGraph(nodes, initializers, inputs, outputs);
    }

    private static string ReadValueInfoName(Slice s) =>
        Fields(s).Where(f => f.Number == 1 && f.IsBytes).Select(f => f.Bytes.Utf8()).LastOrDefault() ?? "";

    private static OnnxNode ReadNode(Slice s, string source)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        string name = "", opType = "", domain = "";
        var attributes = new Dictionary<string, OnnxAttribute>(StringComparer.Ordinal);
        foreach (Field f in Fields(s))
        {
            switch (f.Number)
            {
                case 1 when f.IsBytes:
                    inputs.Add(f.Bytes.Utf8());
                    break;
                case 2 when f.IsBytes:
                    outputs.Add(f.Bytes.Utf8());
                    break;
                case 3 when f.IsBytes:
                    name = f.Bytes.Utf8();
                    break;
                case 4 when f.IsBytes:
                    opType = f.Bytes.Utf8();
                    break;
                case 5 when f.IsBytes:
                    OnnxAttribute a = ReadAttribute(f.Bytes, source);
                    attributes[a.Name] = a;
                    break;
                case 7 when f.IsBytes:
                    domain = f.Bytes.Utf8();
                    break;
            }
        }
        return new OnnxNode(name, opType, domain, inputs.ToArray(), outputs.ToArray(), attributes);
    }

    private static OnnxAttribute ReadAttribute(Slice s, string source)
    {
        string name = "";
        float? fValue = null;
        long? iValue = null;
        string? sValue = null;
        OnnxTensor? tValue = null;
        var floats = new List<float>();
        var ints = new List<long>();
        foreach (Field f in Fields(s))
        {
            switch (f.Number)
            {
                case 1 when f.IsBytes:
                    name = f.Bytes.Utf8();
                    break;
                case 2 when f.IsFixed32:
                    fValue = f.Float;
                    break;
                case 3 when f.IsVarint:
                    iValue = (long)f.Scalar;
                    break;
                case 4 when f.IsBytes:
                    sValue = f.Bytes.Utf8();
                    break;
                case 5 when f.IsBytes:
                    tValue = ReadTensor(f.Bytes, source, "constant tensor");
                    break;
                case 7:
                    ReadRepeatedFloats(f, floats);
                    break;
                case 8:
                    ReadRepeatedVarints(f, ints);
                    break;
            }
        }
        return new OnnxAttribute(name, fValue, iValue, sValue, tValue, floats.ToArray(), ints.ToArray());
    }

    private static OnnxTensor ReadTensor(Slice s, string source, string kind)
    {
        string name = "";
        var dims = new List<long>();
        int dataType = 0;
        Slice? raw = null;
        Slice? packedFloats = null;
        var looseFloats = new List<float>();
        Slice? packedDoubles = null;
        var looseDoubles = new List<double>();
        var integers = new List<long>();
        bool external = false;
        foreach (Field f in Fields(s))
        {
            switch (f.Number)
            {
                case 1:
                    ReadRepeatedVarints(f, dims);
                    break;
                case 2 when f.IsVarint:
                    dataType = (int)f.Scalar;
                    break;
                case 4 when f.IsBytes:
                    packedFloats = f.Bytes;
                    break;
                case 4 when f.IsFixed32:
                    looseFloats.Add(f.Float);
                    break;
                case 5 or 7 or 11:
                    ReadRepeatedVarints(f, integers);
                    break;
                case 8 when f.IsBytes:
                    name = f.Bytes.Utf8();
                    break;
                case 9 when f.IsBytes:
                    raw = f.Bytes;
                    break;
                case 10 when f.IsBytes:
                    packedDoubles = f.Bytes;
                    break;
                case 10 when f.IsFixed64:
                    looseDoubles.Add(BitConverter.UInt64BitsToDouble(f.Scalar));
                    break;
                case 13:
                    external = true;
                    break;
                case 14 when f.IsVarint:
                    external |= f.Scalar == 1;
                    break;
            }
        }
        if (external)
        {
            throw new NotSupportedException(
                $"ONNX tensor '{name}' keeps its data in an external file (TensorProto.external_data); only models with embedded weights can be imported.");
        }
        if (packedFloats is { } p && looseFloats.Count > 0)
        {
            throw new InvalidDataException($"ONNX tensor '{name}' mixes packed and unpacked float_data.");
        }
        long typedValues = (packedFloats?.Length ?? 0) / sizeof(float) + looseFloats.Count
            + (packedDoubles?.Length ?? 0) / sizeof(double) + looseDoubles.Count + integers.Count;
        if ((packedFloats?.Length ?? 0) % sizeof(float) != 0 || (packedDoubles?.Length ?? 0) % sizeof(double) != 0)
        {
            typedValues = -1;   // a partial element: never equals an element count
        }
        OnnxTensorSize.Check(source, kind, name, dims, dataType, raw?.Length, typedValues);
        ReadOnlyMemory<byte> data =
            raw is { } r ? r.Memory
            : packedFloats is { } pf ? pf.Memory
            : looseFloats.Count > 0 ? MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(looseFloats)).ToArray()
            : packedDoubles is { } pd ? pd.Memory
            : looseDoubles.Count > 0 ? MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(looseDoubles)).ToArray()
            : ReadOnlyMemory<byte>.Empty;
        long[]? int64Values = raw == null && integers.Count > 0 ? integers.ToArray() : null;
        return new OnnxTensor(name, dims.ToArray(), (OnnxDataType)dataType, data, int64Values);
    }

    private static void ReadRepeatedVarints(Field f, List<long> into)
    {
        if (f.IsVarint)
        {
            into.Add((long)f.Scalar);
        }
        else if (f.IsBytes)
        {
            var input = new CodedInputStream(f.Bytes.Buffer, f.Bytes.Offset, f.Bytes.Length);
            while (!input.IsAtEnd)
            {
                into.Add(input.ReadInt64());
            }
        }
    }

    private static void ReadRepeatedFloats(Field f, List<float> into)
    {
        if (f.IsFixed32)
        {
            into.Add(f.Float);
        }
        else if (f.IsBytes)
        {
            if (f.Bytes.Length % 4 != 0)
            {
                throw new InvalidDataException($"The {What} holds a packed float list of {f.Bytes.Length} bytes, not a multiple of 4.");
            }
            into.AddRange(MemoryMarshal.Cast<byte, float>(f.Bytes.Memory.Span).ToArray());
        }
    }

    /// <summary>A length-delimited field's payload, as a view of the model buffer.</summary>
    private readonly record struct Slice(byte[] Buffer, int Offset, int Length)
    {
        public ReadOnlyMemory<byte> Memory => new(Buffer, Offset, Length);

        public string Utf8() => Encoding.UTF8.GetString(Buffer, Offset, Length);
    }

    /// <summary>One field of a message: a scalar (varint or fixed width, as raw bits) or a length-delimited payload.</summary>
    private readonly record struct Field(int Number, WireFormat.WireType WireType, ulong Scalar, Slice Bytes)
    {
        public bool IsVarint => WireType == WireFormat.WireType.Varint;

        public bool IsFixed32 => WireType == WireFormat.WireType.Fixed32;

        public bool IsFixed64 => WireType == WireFormat.WireType.Fixed64;

        public bool IsBytes => WireType == WireFormat.WireType.LengthDelimited;

        public float Float => BitConverter.UInt32BitsToSingle((uint)Scalar);
    }

    /// <summary>
    /// The fields of the message in <paramref name="message"/>, in order. Length-delimited payloads are not copied:
    /// the field is skipped with <see cref="CodedInputStream.SkipLastField"/> and its payload located in the buffer.
    /// </summary>
    private static IEnumerable<Field> Fields(Slice message)
    {
        var input = new CodedInputStream(message.Buffer, message.Offset, message.Length);
        // Position counts from the start of the buffer or of the slice depending on the constructor; measure it.
        long toBufferIndex = message.Offset - input.Position;
        while (true)
        {
            uint tag = input.ReadTag();
            if (tag == 0)
            {
                yield break;
            }
            int number = WireFormat.GetTagFieldNumber(tag);
            WireFormat.WireType wireType = WireFormat.GetTagWireType(tag);
            switch (wireType)
            {
                case WireFormat.WireType.Varint:
                    yield return new Field(number, wireType, input.ReadUInt64(), default);
                    break;
                case WireFormat.WireType.Fixed32:
                    yield return new Field(number, wireType, input.ReadFixed32(), default);
                    break;
                case WireFormat.WireType.Fixed64:
                    yield return new Field(number, wireType, input.ReadFixed64(), default);
                    break;
                case WireFormat.WireType.LengthDelimited:
                    int start = checked((int)(input.Position + toBufferIndex));
                    input.SkipLastField();
                    int end = checked((int)(input.Position + toBufferIndex));
                    int payload = end - start - LengthPrefixSize(message.Buffer, start);
                    yield return new Field(number, wireType, 0, new Slice(message.Buffer, end - payload, payload));
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }
    }

    private static int LengthPrefixSize(byte[] buffer, int index)
    {
        int size = 1;
        while ((buffer[index + size - 1] & 0x80) != 0)
        {
            size++;
        }
        return size;
    }
}
