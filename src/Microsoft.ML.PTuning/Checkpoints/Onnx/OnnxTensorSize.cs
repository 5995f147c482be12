using OnnxDataType = Microsoft.ML.PTuning.Checkpoints.Onnx.TensorProto.Types.DataType;

namespace Microsoft.ML.PTuning.Checkpoints;

/// <summary>
/// Checks that an ONNX tensor's data agree with its dims before anything is built from them: dims non-negative, the
/// element count and byte size free of overflow, and <c>raw_data</c> exactly count × element size bytes or the typed
/// fields (<c>float_data</c>, <c>int32_data</c>, <c>int64_data</c>, <c>double_data</c>, <c>uint64_data</c>) exactly count
/// values. Every error names the model's source and the tensor.
/// </summary>
internal static class OnnxTensorSize
{
    /// <summary>Bytes per element of the fixed-width types, or null for types this reader does not size (strings).</summary>
    public static int? ElementSize(OnnxDataType type) => type switch
    {
        OnnxDataType.Float or OnnxDataType.Int32 or OnnxDataType.Uint32 => 4,
        OnnxDataType.Double or OnnxDataType.Int64 or OnnxDataType.Uint64 => 8,
        OnnxDataType.Float16 or OnnxDataType.Bfloat16 or OnnxDataType.Int16 or OnnxDataType.Uint16 => 2,
        OnnxDataType.Uint8 or OnnxDataType.Int8 or OnnxDataType.Bool => 1,
        _ => null,
    };

    /// <param name="source">The model, as named in errors ("ONNX model 'file.onnx'").</param>
    /// <param name="kind">"initializer" or "constant tensor".</param>
    /// <param name="name">The tensor's name.</param>
    /// <param name="dims">Its dims as read.</param>
    /// <param name="dataType">Its <c>data_type</c> as read.</param>
    /// <param name="rawLength">Length of <c>raw_data</c>, or null when absent.</param>
    /// <param name="typedValues">Values in the typed fields (the parser refuses a packed list that ends inside a value).</param>
    public static void Check(string source, string kind, string name, IReadOnlyList<long> dims, int dataType, int? rawLength, long typedValues)
    {
        string shape = "[" + string.Join(",", dims) + "]";
        string what = $"{source}: {kind} '{name}' {shape}";
        if (dims.Any(d => d < 0))
        {
            throw new InvalidDataException($"{what} has a negative dimension; dims must be non-negative.");
        }
        var type = (OnnxDataType)dataType;
        if (type == OnnxDataType.String)
        {
            return;   // strings live in string_data, which the importer never reads
        }
        int size = ElementSize(type)
            ?? throw new InvalidDataException($"{what} has data type {dataType}, which this reader cannot size (known: {string.Join(", ", Enum.GetValues<OnnxDataType>().Where(t => ElementSize(t) != null))}).");

        long count, bytes;
        try
        {
            count = dims.Aggregate(1L, (n, d) => checked(n * d));
            bytes = checked(count * size);
        }
        catch (OverflowException)
        {
            throw new InvalidDataException($"{what}: the element count of its dims overflows 64 bits.");
        }

        if (rawLength is int raw)
        {
            if (typedValues != 0)
            {
                throw new InvalidDataException($"{what} holds both raw_data and typed data fields; a tensor holds one of them.");
            }
            if (raw != bytes)
            {
                throw new InvalidDataException(
                    $"{what} {type} holds {raw} bytes of raw_data; its dims need {count} × {size} = {bytes} bytes.");
            }
        }
        else if (typedValues != count)
        {
            throw new InvalidDataException($"{what} {type} holds {typedValues} values; its dims need {count}.");
        }
    }
}
