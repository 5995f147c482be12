using System.Buffers.Binary;
using System.Text;
using Microsoft.ML.PTuning.Checkpoints;
using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Tests.Modeling;
using TorchSharp;
using TorchSharp.PyBridge;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Tests.Checkpoints;

/// <summary>
/// The strict safetensors reader: files the reference implementation rejects are refused before any of their claims
/// becomes an allocation, each error naming the file and the tensor; valid files read back exactly.
/// </summary>
public class SafeTensorsReaderTests
{
    // A safetensors file from a header (JSON, as written) and a data section; the length prefix is the header's unless given.
    private static string WriteRaw(string header, byte[] data, ulong? headerLength = null)
    {
        string path = Path.Combine(TestPaths.NewTempFolder("st"), "weights.safetensors");
        byte[] json = Encoding.UTF8.GetBytes(header);
        using var file = File.Create(path);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, headerLength ?? (ulong)json.Length);
        file.Write(prefix);
        file.Write(json);
        file.Write(data);
        return path;
    }

    private static string Tensor(string name, string dtype, long[] shape, long begin, long end) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{begin},{end}]}}";

    // Reads the file, expecting a refusal that names the file and (where given) the tensor; returns the message.
    private static string Refused(string path, string? tensor, string expected)
    {
        var error = Assert.Throws<InvalidDataException>(() => SafeTensorsReader.Read(path));
        Assert.Contains(path, error.Message);
        if (tensor != null)
            Assert.Contains($"tensor '{tensor}'", error.Message);
        Assert.Contains(expected, error.Message);
        return error.Message;
    }

    [Fact]
    public void AFileWrittenBySafeTensorsWriterReadsBackExactly()
    {
        var a = Enumerable.Range(0, 12).Select(i => i * 0.25f - 1f).ToArray();
        var b = new[] { float.MaxValue, float.Epsilon, -0f };
        string path = Path.Combine(TestPaths.NewTempFolder("st"), "model.safetensors");
        SafeTensorsWriter.Write(path,
        [
            new SafeTensorsEntry("b.bias", [3], s => s.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(b.AsSpan()))),
            new SafeTensorsEntry("a.weight", [3, 4], s => s.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()))),
            new SafeTensorsEntry("empty", [0, 5], _ => { }),
        ]);

        Dictionary<string, Tensor> read = SafeTensorsReader.Read(path);
        Assert.Equal(["a.weight", "b.bias", "empty"], read.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([3L, 4L], read["a.weight"].shape);
        Assert.Equal(a, read["a.weight"].data<float>().ToArray());
        Assert.Equal(b, read["b.bias"].data<float>().ToArray());
        Assert.Equal([0L, 5L], read["empty"].shape);
        foreach (Tensor t in read.Values)
            t.Dispose();
    }

    [Fact]
    public void EveryDtypeOfAPyBridgeFileReadsWithItsValuesAndType()
    {
        // Written by an independent writer, larger element sizes first so each begin is aligned.
        var tensors = new Dictionary<string, Tensor>
        {
            ["f64"] = torch.tensor(new[] { 1.5, -2.25 }),
            ["i64"] = torch.tensor(new[] { long.MinValue, 7L, long.MaxValue }),
            ["f32"] = torch.tensor(new[] { 3.5f, -0.125f }).reshape(1, 2),
            ["i32"] = torch.tensor(new[] { int.MinValue, 9 }),
            ["f16"] = torch.tensor(new[] { 0.5f, 2f }).to(ScalarType.Float16),
            ["bf16"] = torch.tensor(new[] { 1f, -3f }).to(ScalarType.BFloat16),
            ["i16"] = torch.tensor(new short[] { -300, 300 }),
            ["i8"] = torch.tensor(new sbyte[] { -5, 5, 0 }),
            ["u8"] = torch.tensor(new byte[] { 0, 255 }),
            ["bool"] = torch.tensor(new[] { true, false, true }),
        };
        string path = Path.Combine(TestPaths.NewTempFolder("st"), "all.safetensors");
        using (var file = File.Create(path))
            Safetensors.SaveStateDict(file, tensors, leaveOpen: true);

        Dictionary<string, Tensor> read = SafeTensorsReader.Read(path);
        Assert.Equal(tensors.Keys.Order(), read.Keys.Order());
        foreach (var (name, expected) in tensors)
        {
            Assert.Equal(expected.dtype, read[name].dtype);
            Assert.Equal(expected.shape, read[name].shape);
            Assert.True(expected.eq(read[name]).all().item<bool>(), name);
        }
    }

    [Fact]
    public void MetadataAndPaddingAreAllowed()
    {
        string header = "{\"__metadata__\":{\"format\":\"pt\"}," + Tensor("w", "F32", [2], 0, 8) + "}    ";
        string path = WriteRaw(header, BitConverter.GetBytes(1f).Concat(BitConverter.GetBytes(2f)).ToArray());
        Assert.Equal([1f, 2f], SafeTensorsReader.Read(path)["w"].data<float>().ToArray());
    }

    [Fact]
    public void ANegativeBeginOffsetIsRefused()
    {
        // It would read the header's last bytes as weights.
        string path = WriteRaw("{" + Tensor("w", "F32", [2], -8, 0) + "," + Tensor("v", "F32", [2], 0, 8) + "}", new byte[8]);
        Refused(path, "w", "non-negative integers");
    }

    [Fact]
    public void OverlappingTensorsAreRefusedNamingBoth()
    {
        string path = WriteRaw("{" + Tensor("first", "F32", [4], 0, 16) + "," + Tensor("second", "F32", [4], 8, 24) + "}", new byte[24]);
        string message = Refused(path, "second", "overlap");
        Assert.Contains("'first'", message);
    }

    [Fact]
    public void AMisalignedBeginIsRefused()
    {
        string path = WriteRaw("{" + Tensor("bytes", "U8", [3], 0, 3) + "," + Tensor("w", "F32", [1], 3, 7) + "}", new byte[7]);
        Refused(path, "w", "misaligned");
    }

    [Fact]
    public void AGapBetweenTensorsIsRefused()
    {
        string path = WriteRaw("{" + Tensor("a", "F32", [2], 0, 8) + "," + Tensor("b", "F32", [2], 16, 24) + "}", new byte[24]);
        Refused(path, "b", "[8, 16)");
    }

    [Fact]
    public void BytesAfterTheLastTensorAreRefused()
    {
        string path = WriteRaw("{" + Tensor("a", "F32", [2], 0, 8) + "}", new byte[12]);
        Refused(path, null, "4 bytes after its last tensor 'a'");
    }

    [Fact]
    public void ATensorPastTheEndOfTheFileIsRefused()
    {
        string path = WriteRaw("{" + Tensor("a", "F32", [4], 0, 16) + "}", new byte[10]);
        Refused(path, "a", "holds only 10 bytes");
    }

    [Fact]
    public void AnUnknownDtypeIsRefused()
    {
        string path = WriteRaw("{" + Tensor("q", "Q4_K", [8], 0, 4) + "}", new byte[4]);
        Refused(path, "q", "dtype 'Q4_K'");
    }

    [Theory]
    [InlineData("F32", new long[] { 3 }, 8, "12 bytes")]       // shape says 12 bytes, offsets 8
    [InlineData("F16", new long[] { 2, 2 }, 16, "8 bytes")]    // dtype says 8 bytes, offsets 16
    [InlineData("I64", new long[] { 1 }, 4, "8 bytes")]
    public void ADtypeOrShapeThatDisagreesWithTheByteLengthIsRefused(string dtype, long[] shape, int end, string needed)
    {
        string path = WriteRaw("{" + Tensor("t", dtype, shape, 0, end) + "}", new byte[end]);
        Refused(path, "t", needed);
    }

    [Fact]
    public void AShapeWhoseSizeOverflowsIsRefused()
    {
        string path = WriteRaw("{" + Tensor("huge", "F32", [1L << 40, 1L << 40], 0, 8) + "}", new byte[8]);
        Refused(path, "huge", "overflows");
    }

    [Fact]
    public void AnEndBeforeItsBeginIsRefused()
    {
        string path = WriteRaw("{" + Tensor("t", "U8", [0], 8, 0) + "," + Tensor("a", "F32", [2], 0, 8) + "}", new byte[8]);
        Refused(path, "t", "end is before the begin");
    }

    [Fact]
    public void AHeaderLongerThanTheFileIsRefused()
    {
        string path = WriteRaw("{" + Tensor("a", "F32", [2], 0, 8) + "}", new byte[8], headerLength: 10_000);
        Refused(path, null, "10000-byte header");
    }

    [Fact]
    public void ATwoGibibyteHeaderIsRefusedWithoutAllocatingIt()
    {
        // Both with the file's length known and for a stream of unknown length: the cap holds before any allocation.
        string path = WriteRaw("{}", [], headerLength: 2UL << 30);
        Refused(path, null, "at most 100000000 bytes");
        using var stream = new NonSeekable(File.ReadAllBytes(path));
        var error = Assert.Throws<InvalidDataException>(() => SafeTensorsReader.Read(stream, "Adapter.safetensors"));
        Assert.Contains("'Adapter.safetensors'", error.Message);
        Assert.Contains("2147483648-byte header", error.Message);
    }

    [Theory]
    [InlineData("not json at all", "not valid JSON")]
    [InlineData("[1, 2]", "not an object")]
    [InlineData("{\"__metadata__\":{\"n\":1}}", "not an object of strings")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", "non-negative integers")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", "expected two")]
    [InlineData("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "no dtype")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "'w' twice")]
    public void AMalformedHeaderIsRefused(string header, string expected)
    {
        Refused(WriteRaw(header, new byte[8]), null, expected);
    }

    [Fact]
    public void AFileShorterThanTheLengthPrefixIsRefused()
    {
        string path = Path.Combine(TestPaths.NewTempFolder("st"), "short.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        Refused(path, null, "3 bytes long");
    }

    [Fact]
    public void AStreamOfUnknownLengthIsCheckedToItsEnd()
    {
        byte[] good = File.ReadAllBytes(WriteRaw("{" + Tensor("a", "F32", [2], 0, 8) + "}", BitConverter.GetBytes(5f).Concat(BitConverter.GetBytes(6f)).ToArray()));
        using (var stream = new NonSeekable(good))
            Assert.Equal([5f, 6f], SafeTensorsReader.Read(stream, "s")["a"].data<float>().ToArray());

        using (var trailing = new NonSeekable([.. good, 0]))
            Assert.Contains("bytes after its last tensor", Assert.Throws<InvalidDataException>(() => SafeTensorsReader.Read(trailing, "s")).Message);
        using (var truncated = new NonSeekable(good[..^3]))
            Assert.Contains("tensor 'a' needs 8 bytes", Assert.Throws<InvalidDataException>(() => SafeTensorsReader.Read(truncated, "s")).Message);
    }

    [Fact]
    public void ACheckpointFolderWithADamagedFileFailsNamingTheFileAndTensor()
    {
        EncoderConfig config = TinyEncoders.Roberta();
        using var source = TinyEncoders.Random(config, seed: 70);
        string folder = TinyEncoders.WriteCheckpoint(TestPaths.NewTempFolder("ckpt"), config, TinyEncoders.StateWithPrefix(source, ""));
        string weights = Path.Combine(folder, "model.safetensors");
        // Change the last digit of the first tensor's end offset (same length, so the header length still holds).
        byte[] bytes = File.ReadAllBytes(weights);
        int headerLength = (int)BitConverter.ToUInt64(bytes, 0);
        using var header = System.Text.Json.JsonDocument.Parse(bytes.AsMemory(8, headerLength));
        string tensor = header.RootElement.EnumerateObject()
            .Single(p => p.Value.TryGetProperty("data_offsets", out var o) && o[0].GetInt64() == 0).Name;
        string text = Encoding.UTF8.GetString(bytes, 8, headerLength);
        int begin = text.IndexOf("\"data_offsets\":[0,", StringComparison.Ordinal) + "\"data_offsets\":[0,".Length;
        int last = text.IndexOf(']', begin) - 1;
        bytes[8 + last] = (byte)('0' + (bytes[8 + last] - '0' + 1) % 10);
        File.WriteAllBytes(weights, bytes);

        var error = Assert.Throws<InvalidDataException>(() => HuggingFaceCheckpoint.Load(folder));
        Assert.Contains(weights, error.Message);
        Assert.Contains($"tensor '{tensor}'", error.Message);
    }

    /// <summary>A read-only stream that cannot seek or tell its length (as a compressed zip entry can be).</summary>
    private sealed class NonSeekable(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
