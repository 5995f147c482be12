using System.Text;
using System.Text.Json;

namespace Microsoft.ML.PTuning.Checkpoints;

/// <summary>
/// Writes float32 tensors in the safetensors format: an 8-byte little-endian header length, a JSON header
/// <c>{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}</c> padded with
/// spaces to 8 bytes, then the tensors' bytes back to back. Tensors are streamed one by one, so writing needs no more
/// memory than the largest single tensor a callback builds.
/// </summary>
internal static class SafeTensorsWriter
{
    public static void Write(string path, IReadOnlyList<SafeTensorsEntry> entries)
    {
        List<SafeTensorsEntry> ordered = entries.OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
        byte[] header = Header(ordered);
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        Span<byte> length = stackalloc byte[8];
        BitConverter.TryWriteBytes(length, (ulong)header.Length);
        if (!BitConverter.IsLittleEndian)
        {
            length.Reverse();
        }
        file.Write(length);
        file.Write(header);
        foreach (SafeTensorsEntry entry in ordered)
        {
            long before = file.Position;
            entry.WriteData(file);
            if (file.Position - before != entry.ByteLength)
            {
                throw new InvalidOperationException(
                    $"Tensor '{entry.Name}' wrote {file.Position - before} bytes to '{path}'; its shape [{string.Join(",", entry.Shape)}] needs {entry.ByteLength}.");
            }
        }
    }

    private static byte[] Header(IReadOnlyList<SafeTensorsEntry> ordered)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            json.WriteString("format", "pt");
            json.WriteEndObject();
            long offset = 0;
            foreach (SafeTensorsEntry entry in ordered)
            {
                json.WriteStartObject(entry.Name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (long d in entry.Shape)
                {
                    json.WriteNumberValue(d);
                }
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + entry.ByteLength);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += entry.ByteLength;
            }
            json.WriteEndObject();
        }
        int padding = (int)((8 - buffer.Length % 8) % 8);
        buffer.Write(Encoding.ASCII.GetBytes(new string(' ', padding)));
        return buffer.ToArray();
    }
}
