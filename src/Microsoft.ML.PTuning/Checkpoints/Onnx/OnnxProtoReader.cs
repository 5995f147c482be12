using System.Runtime.InteropServices;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Microsoft.ML.PTuning.Checkpoints.Onnx;
using OnnxDataType = Microsoft.ML.PTuning.Checkpoints.Onnx.TensorProto.Types.DataType;

namespace Microsoft.ML.PTuning.Checkpoints;

/// <summary>
/// Reads an ONNX model into the importer's graph. The protobuf is parsed by the classes protoc generates from
/// <c>onnx_import.proto</c> (namespace <see cref="Onnx"/>), which declares only the fields the importer reads; every
/// other field is skipped and discarded. Then each tensor is checked (<see cref="OnnxTensorSize"/>, no external data)
/// before anything is built from it, and its <c>raw_data</c> is used where the parser put it, without a copy.
/// </summary>
/// <remarks>
/// The model is parsed from the stream, never read into a buffer first, so its weights are in memory once (as the
/// parser's byte strings) plus, while one is read, a copy of that one field: for a stream the parser reads a long
/// field in small chunks and joins them, so a length field that lies costs no more memory than the bytes that follow.
/// </remarks>
internal static class OnnxProtoReader
{
    /// <summary>
    /// Protobuf's own bound: a message over 2 GB cannot be parsed. ONNX keeps larger models' weights in external files.
    /// </summary>
    private const int MaxModelBytes = int.MaxValue;

    /// <summary>
    /// The declared messages nest six deep (model, graph, node, attribute, tensor, entry); unknown groups count too.
    /// </summary>
    private const int MaxNesting = 16;

    private static readonly MessageParser<ModelProto> Parser = ModelProto.Parser.WithDiscardUnknownFields(true);

    /// <summary>
    /// Reads a whole ONNX model from a stream (from its current position to its end); the stream is left open. Errors
    /// name <paramref name="source"/>, by default the file of a <see cref="FileStream"/>.
    /// </summary>
    public static OnnxModel Read(Stream stream, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        string what = (source ?? (stream as FileStream)?.Name) is { } name ? $"ONNX model '{name}'" : "ONNX model";
        if (stream.CanSeek && stream.Length - stream.Position > MaxModelBytes)
        {
            throw new InvalidDataException(
                $"The {what} is {stream.Length - stream.Position} bytes; models over {MaxModelBytes} bytes keep their weights as external data, which this importer does not support.");
        }

        // Not disposed: disposing a CodedInputStream closes the caller's stream, and it holds nothing else.
        var input = CodedInputStream.CreateWithLimits(stream, MaxModelBytes, MaxNesting);
        ModelProto model;
        try
        {
            model = Parser.ParseFrom(input);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"The {what} is not a valid ONNX protobuf message (truncated or corrupt): {e.Message}", e);
        }
        if (input.Position == 0)
        {
            throw new InvalidDataException($"The {what} is empty.");
        }
        if (model.Graph == null)
        {
            throw new InvalidDataException($"The {what} holds no graph (ModelProto field 7); the stream is not an ONNX model.");
        }

        var opsets = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (OperatorSetIdProto opset in model.OpsetImport)
        {
            opsets[opset.Domain] = opset.Version;
        }
        GraphProto graph = model.Graph;
        return new OnnxModel(model.IrVersion, opsets, new OnnxGraph(
            graph.Node.Select(n => ToNode(n, what)).ToList(),
            graph.Initializer.Select(t => ToTensor(t, what, "initializer")).ToList(),
            graph.Input.Select(v => v.Name).ToList(),
            graph.Output.Select(v => v.Name).ToList()));
    }

    /// <summary>
    /// Parses an ONNX <c>ModelProto</c> held in <paramref name="buffer"/>[offset, offset+length); <paramref name="source"/>
    /// (a file name) is named in errors.
    /// </summary>
    public static OnnxModel Parse(byte[] buffer, int offset, int length, string? source = null) =>
        Read(new MemoryStream(buffer, offset, length, writable: false), source);

    /// <summary>A float32 tensor built from values (for attribute-valued constants).</summary>
    internal static OnnxTensor Float32Tensor(string name, float[] values, long[] dims) =>
        new(name, dims, OnnxDataType.Float, MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), null);

    private static OnnxNode ToNode(NodeProto node, string what)
    {
        var attributes = new Dictionary<string, OnnxAttribute>(StringComparer.Ordinal);
        foreach (AttributeProto a in node.Attribute)
        {
            attributes[a.Name] = new OnnxAttribute(
                a.Name, a.HasF ? a.F : null, a.HasI ? a.I : null, a.HasS ? a.S.ToStringUtf8() : null,
                a.T == null ? null : ToTensor(a.T, what, "constant tensor"), a.Floats.ToArray(), a.Ints.ToArray());
        }
        return new OnnxNode(node.Name, node.OpType, node.Domain, node.Input.ToArray(), node.Output.ToArray(), attributes);
    }

    private static OnnxTensor ToTensor(TensorProto tensor, string what, string kind)
    {
        if (tensor.ExternalData.Count > 0 || tensor.DataLocation == TensorProto.Types.DataLocation.External)
        {
            throw new NotSupportedException(
                $"ONNX tensor '{tensor.Name}' keeps its data in an external file (TensorProto.external_data); only models with embedded weights can be imported.");
        }
        int integers = tensor.Int32Data.Count + tensor.Int64Data.Count + tensor.Uint64Data.Count;
        long typedValues = (long)tensor.FloatData.Count + tensor.DoubleData.Count + integers;
        OnnxTensorSize.Check(what, kind, tensor.Name, tensor.Dims, tensor.DataType, tensor.HasRawData ? tensor.RawData.Length : null, typedValues);

        ReadOnlyMemory<byte> data =
            tensor.HasRawData ? tensor.RawData.Memory
            : tensor.FloatData.Count > 0 ? LittleEndian(tensor.FloatData)
            : tensor.DoubleData.Count > 0 ? LittleEndian(tensor.DoubleData)
            : ReadOnlyMemory<byte>.Empty;
        long[]? int64Values = !tensor.HasRawData && integers > 0
            ? tensor.Int32Data.Select(v => (long)v).Concat(tensor.Int64Data).Concat(tensor.Uint64Data.Select(v => unchecked((long)v))).ToArray()
            : null;
        return new OnnxTensor(tensor.Name, tensor.Dims.ToArray(), (OnnxDataType)tensor.DataType, data, int64Values);
    }

    /// <summary>Typed values as the little-endian bytes <c>raw_data</c> would hold (the importer runs on little-endian machines only).</summary>
    private static byte[] LittleEndian<T>(RepeatedField<T> values)
        where T : unmanaged => MemoryMarshal.AsBytes(values.ToArray().AsSpan()).ToArray();
}
