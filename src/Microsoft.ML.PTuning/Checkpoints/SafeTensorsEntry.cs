using System.Text;
using System.Text.Json;

namespace Microsoft.ML.PTuning.Checkpoints;

/// <summary>One tensor to write: its name, shape, and a callback that writes exactly its little-endian float32 bytes.</summary>
internal sealed record SafeTensorsEntry(string Name, long[] Shape, Action<Stream> WriteData)
{
    public long ByteLength => Shape.Aggregate(1L, (n, d) => n * d) * sizeof(float);
}
