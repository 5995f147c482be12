using System.Buffers.Binary;
using OnnxDataType = Microsoft.ML.PTuning.Checkpoints.Onnx.TensorProto.Types.DataType;

namespace Microsoft.ML.PTuning.Checkpoints;

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
