using System.Buffers.Binary;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Checkpoints;

/// <summary>
/// Reads a safetensors file (an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape
/// and <c>data_offsets</c> into the data section, then the data section) and checks every claim of the header before
/// any of it becomes a size, an allocation or a tensor.
/// </summary>
/// <remarks>
/// <para>
/// The checks, in order: the header length is at most <see cref="MaxHeaderBytes"/> and at most what follows it in the
/// file; the header is a JSON object; <c>__metadata__</c>, if present, maps strings to strings; every other entry has a
/// known dtype, a shape of non-negative integers and two non-negative offsets <c>[begin, end)</c> with
/// <c>begin ≤ end</c>, <c>end − begin = product(shape) × dtype size</c> (overflow-checked) and <c>begin</c> a multiple
/// of the dtype size; sorted by offset, the tensors neither overlap nor leave gaps, and together cover the data section
/// exactly (nothing missing, nothing after). Every error is an <see cref="InvalidDataException"/> that names the file
/// (or stream) and, where one is at fault, the tensor.
/// </para>
/// <para>Tensors are created on the CPU with the file's dtype; the data are read in file order, one tensor at a time.</para>
/// </remarks>
internal static class SafeTensorsReader
{
    /// <summary>The largest header accepted (as the reference implementation's limit): larger claims are refused unread.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";

    // dtype name → torch type and element size; the dtypes torch and the reference implementation share.
    private static readonly Dictionary<string, (ScalarType Type, int Size)> DTypes = new(StringComparer.Ordinal)
    {
        ["F64"] = (ScalarType.Float64, 8),
        ["F32"] = (ScalarType.Float32, 4),
        ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2),
        ["I64"] = (ScalarType.Int64, 8),
        ["I32"] = (ScalarType.Int32, 4),
        ["I16"] = (ScalarType.Int16, 2),
        ["I8"] = (ScalarType.Int8, 1),
        ["U8"] = (ScalarType.Byte, 1),
        ["BOOL"] = (ScalarType.Bool, 1),
    };

    /// <summary>Reads every tensor of the file at <paramref name="path"/>; errors name the path.</summary>
    /// <exception cref="InvalidDataException">The file is not a well-formed safetensors file (the message says what is wrong where).</exception>
    public static Dictionary<string, Tensor> Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Read(file, path);
    }

    /// <summary>
    /// Reads every tensor from <paramref name="stream"/>, from its current position; the file ends where the stream ends.
    /// <paramref name="source"/> names the stream in errors.
    /// </summary>
    /// <exception cref="InvalidDataException">The stream is not a well-formed safetensors file.</exception>
    public static Dictionary<string, Tensor> Read(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentException.ThrowIfNullOrEmpty(source);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("safetensors data are little-endian; this reader runs on little-endian machines only.");
        }

        long? remaining = stream.CanSeek ? stream.Length - stream.Position : null;
        List<Entry> entries = ReadHeader(stream, source, remaining, out long dataLength);
        return ReadTensors(stream, source, entries, dataLength);
    }

    /// <summary>One tensor as the header declares it, checked.</summary>
    private readonly record struct Entry(string Name, string DType, ScalarType Type, long[] Shape, long Begin, long End);

    // Returns the entries sorted by offset, checked against each other and (when known) the data section's length.
    // dataLength is the data section's length when the stream's length is known, else -1.
    private static List<Entry> ReadHeader(Stream stream, string source, long? remaining, out long dataLength)
    {
        Span<byte> prefix = stackalloc byte[8];
        int got = stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false);
        if (got < 8)
        {
            throw Bad(source, $"is {got} bytes long, too short for the 8-byte header length a safetensors file starts with");
        }
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes)
        {
            throw Bad(source, $"declares a {headerLength}-byte header; a safetensors header is at most {MaxHeaderBytes} bytes (corrupt, or not a safetensors file)");
        }
        if (remaining is long total && (long)headerLength > total - 8)
        {
            throw Bad(source, $"declares a {headerLength}-byte header, but only {total - 8} bytes follow the header length (truncated, or not a safetensors file)");
        }

        var header = new byte[headerLength];
        got = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        if (got < header.Length)
        {
            throw Bad(source, $"ends {got} bytes into its {headerLength}-byte header (truncated)");
        }
        dataLength = remaining is long all ? all - 8 - (long)headerLength : -1;

        List<Entry> entries = ParseHeader(header, source);
        CheckLayout(entries, source, dataLength);
        return entries;
    }

    private static List<Entry> ParseHeader(byte[] header, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw Bad(source, $"has a header that is not valid JSON ({e.Message})", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Bad(source, $"has a JSON header that is a {document.RootElement.ValueKind}, not an object of tensors");
            }

            var entries = new List<Entry>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                if (!names.Add(property.Name))
                {
                    throw Bad(source, $"names '{property.Name}' twice in its header");
                }
                if (property.Name == MetadataKey)
                {
                    CheckMetadata(property.Value, source);
                    continue;
                }
                entries.Add(ParseEntry(property.Name, property.Value, source));
            }
            return entries;
        }
    }

    private static void CheckMetadata(JsonElement metadata, string source)
    {
        if (metadata.ValueKind == JsonValueKind.Null)
        {
            return;
        }
        if (metadata.ValueKind != JsonValueKind.Object || metadata.EnumerateObject().Any(p => p.Value.ValueKind != JsonValueKind.String))
        {
            throw Bad(source, $"has a '{MetadataKey}' that is not an object of strings");
        }
    }

    private static Entry ParseEntry(string name, JsonElement value, string source)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw BadTensor(source, name, $"is described by a JSON {value.ValueKind}; expected an object with dtype, shape and data_offsets");
        }
        if (!value.TryGetProperty("dtype", out JsonElement dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw BadTensor(source, name, "has no dtype string");
        }
        string dtype = dtypeElement.GetString()!;
        if (!DTypes.TryGetValue(dtype, out var known))
        {
            throw BadTensor(source, name, $"has dtype '{dtype}', which this reader does not know (known: {string.Join(", ", DTypes.Keys)})");
        }

        long[] shape = ReadIntegers(value, "shape", source, name);
        long[] offsets = ReadIntegers(value, "data_offsets", source, name);
        if (offsets.Length != 2)
        {
            throw BadTensor(source, name, $"has {offsets.Length} data_offsets; expected two, [begin, end)");
        }
        return new Entry(name, dtype, known.Type, shape, offsets[0], offsets[1]);
    }

    // A JSON array of non-negative integers that fit 64 bits.
    private static long[] ReadIntegers(JsonElement value, string key, string source, string name)
    {
        if (!value.TryGetProperty(key, out JsonElement array) || array.ValueKind != JsonValueKind.Array)
        {
            throw BadTensor(source, name, $"has no {key} array");
        }
        var numbers = new long[array.GetArrayLength()];
        int i = 0;
        foreach (JsonElement item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long n) || n < 0)
            {
                throw BadTensor(source, name, $"has {key} [{Join(array)}]; expected non-negative integers");
            }
            numbers[i++] = n;
        }
        return numbers;
    }

    private static void CheckLayout(List<Entry> entries, string source, long dataLength)
    {
        foreach (Entry e in entries)
        {
            int size = DTypes[e.DType].Size;
            long bytes;
            try
            {
                bytes = checked(e.Shape.Aggregate(1L, (n, d) => n * d) * size);
            }
            catch (OverflowException)
            {
                throw BadTensor(source, e.Name, $"has shape {ShapeText(e.Shape)}, whose {e.DType} size overflows 64 bits");
            }
            if (e.End < e.Begin)
            {
                throw BadTensor(source, e.Name, $"has data_offsets [{e.Begin}, {e.End}]: the end is before the begin");
            }
            if (e.End - e.Begin != bytes)
            {
                throw BadTensor(source, e.Name,
                    $"is {e.DType} {ShapeText(e.Shape)}, which is {bytes} bytes, but its data_offsets [{e.Begin}, {e.End}] span {e.End - e.Begin}");
            }
            if (e.Begin % size != 0)
            {
                throw BadTensor(source, e.Name, $"begins at byte {e.Begin}, not a multiple of its {e.DType} element size {size} (misaligned)");
            }
            if (dataLength >= 0 && e.End > dataLength)
            {
                throw BadTensor(source, e.Name, $"ends at byte {e.End} of the data section, which holds only {dataLength} bytes (truncated?)");
            }
        }

        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long covered = 0;
        string? previous = null;
        foreach (Entry e in entries)
        {
            if (e.Begin < covered)
            {
                throw BadTensor(source, e.Name, $"has data_offsets [{e.Begin}, {e.End}], which overlap tensor '{previous}' (ending at {covered})");
            }
            if (e.Begin > covered)
            {
                throw BadTensor(source, e.Name,
                    $"begins at byte {e.Begin}, leaving bytes [{covered}, {e.Begin}) of the data section to no tensor" +
                    (previous is null ? "" : $" after '{previous}'"));
            }
            covered = e.End;
            previous = e.Name;
        }
        if (dataLength >= 0 && covered != dataLength)
        {
            throw Bad(source, $"has {dataLength - covered} bytes after its last tensor{(previous is null ? "" : $" '{previous}'")}: the tensors cover {covered} of the data section's {dataLength} bytes");
        }
    }

    private static Dictionary<string, Tensor> ReadTensors(Stream stream, string source, List<Entry> entries, long dataLength)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (Entry e in entries)
            {
                long bytes = e.End - e.Begin;
                if (bytes > Array.MaxLength)
                {
                    throw BadTensor(source, e.Name, $"is {bytes} bytes; tensors over {Array.MaxLength} bytes are not supported");
                }
                var data = new byte[bytes];
                int got = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
                if (got < data.Length)
                {
                    throw BadTensor(source, e.Name, $"needs {bytes} bytes, but the file ends after {got} of them (truncated)");
                }
                Tensor tensor = torch.empty(e.Shape, e.Type);
                tensors.Add(e.Name, tensor);
                if (bytes > 0)
                {
                    tensor.bytes = data;
                }
            }
            // A stream of unknown length is checked for trailing bytes at the end.
            if (dataLength < 0 && stream.ReadByte() >= 0)
            {
                throw Bad(source, "has bytes after its last tensor; the tensors must cover the data section exactly");
            }
            return tensors;
        }
        catch
        {
            foreach (Tensor t in tensors.Values)
            {
                t.Dispose();
            }
            throw;
        }
    }

    private static string ShapeText(long[] shape) => "[" + string.Join(", ", shape) + "]";

    private static string Join(JsonElement array) => string.Join(", ", array.EnumerateArray().Select(e => e.GetRawText()));

    private static InvalidDataException Bad(string source, string what, Exception? inner = null) =>
        new($"Safetensors file '{source}' {what}.", inner);

    private static InvalidDataException BadTensor(string source, string tensor, string what) =>
        new($"Safetensors file '{source}': tensor '{tensor}' {what}.");
}
