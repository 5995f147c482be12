using System.IO.Compression;
using System.Security.Cryptography;
using Microsoft.ML.PTuning.Persistence;

namespace Microsoft.ML.PTuning.Tests.Persistence;

/// <summary>
/// Reads a saved model zip into its entries and writes changed copies of it: entries replaced, removed or bit-flipped
/// (written again with System.IO.Compression, so the zip's own structure stays valid), the prefix-tuning header re-framed
/// with its SHA-256 recomputed (what a crafted zip would do), its format version changed.
/// </summary>
internal sealed class ZipVariants
{
    // Offsets of ML.NET's ModelHeader fields at the start of every Model.key stream (ModelHeader.cs, Size 0x100).
    private const int FpModel = 0x10, CbModel = 0x18, ModelVerWritten = 0x48, ModelVerReadable = 0x4C;
    private static readonly int[] Offsets = [0x20, 0x30, 0x80, 0x88, 0x90]; // string table, string chars, tail, lim, assembly name

    public ZipVariants(string zipPath)
    {
        using var archive = ZipFile.OpenRead(zipPath);
        Entries = archive.Entries.Select(e => (e.FullName, Read(e))).ToList();
        string adapter = Entries.Single(e => e.Name.EndsWith("/" + ModelZipFormat.AdapterStream, StringComparison.Ordinal)).Name;
        Folder = adapter[..^ModelZipFormat.AdapterStream.Length];
        ModelKey = Folder + "Model.key";
        Original = File.ReadAllBytes(zipPath);
    }

    /// <summary>Every entry, in the zip's order.</summary>
    public IReadOnlyList<(string Name, byte[] Bytes)> Entries { get; }

    /// <summary>The zip's bytes as saved.</summary>
    public byte[] Original { get; }

    /// <summary>The prefix-tuning transformer's folder in the zip, with a trailing '/'.</summary>
    public string Folder { get; }

    /// <summary>The prefix-tuning transformer's main stream.</summary>
    public string ModelKey { get; }

    public byte[] this[string name] => Entries.Single(e => e.Name == name).Bytes;

    /// <summary>The header as saved.</summary>
    public ModelZipHeader Header => ModelZipHeader.Parse(HeaderBytes(this[ModelKey]));

    /// <summary>A zip with <paramref name="name"/> replaced by <paramref name="bytes"/> (removed when null).</summary>
    public byte[] With(string name, byte[]? bytes)
    {
        var memory = new MemoryStream();
        using (var archive = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (entry, content) in Entries)
            {
                byte[]? written = entry == name ? bytes : content;
                if (written == null)
                    continue;
                using var stream = archive.CreateEntry(entry, CompressionLevel.Fastest).Open();
                stream.Write(written);
            }
        }
        return memory.ToArray();
    }

    /// <summary>A zip whose entry <paramref name="name"/> has bit <paramref name="bit"/> of byte <paramref name="offset"/> flipped.</summary>
    public byte[] Flip(string name, int offset, int bit)
    {
        byte[] bytes = (byte[])this[name].Clone();
        bytes[offset] ^= (byte)(1 << bit);
        return With(name, bytes);
    }

    /// <summary>A zip whose header is <paramref name="header"/>'s bytes, framed with their SHA-256 as the library writes it.</summary>
    public byte[] WithHeader(ModelZipHeader header) => WithHeaderBytes(header.ToBytes());

    /// <summary>A zip whose header bytes are <paramref name="payload"/>, framed with their SHA-256 and ML.NET's offsets moved.</summary>
    public byte[] WithHeaderBytes(byte[] payload)
    {
        byte[] key = this[ModelKey];
        long fpModel = BitConverter.ToInt64(key, FpModel);
        int oldBlock = sizeof(int) + BitConverter.ToInt32(key, (int)fpModel) + SHA256.HashSizeInBytes;
        byte[] block = [.. BitConverter.GetBytes(payload.Length), .. payload, .. SHA256.HashData(payload)];
        byte[] changed = [.. key[..(int)fpModel], .. block, .. key[((int)fpModel + oldBlock)..]];
        long delta = block.Length - oldBlock;
        Add(changed, CbModel, delta);
        foreach (int offset in Offsets)
        {
            if (BitConverter.ToInt64(changed, offset) > fpModel)
                Add(changed, offset, delta);
        }
        return With(ModelKey, changed);
    }

    /// <summary>A zip whose prefix-tuning stream claims format version <paramref name="written"/> (readable by <paramref name="readable"/>).</summary>
    public byte[] WithVersion(uint written, uint readable)
    {
        byte[] key = (byte[])this[ModelKey].Clone();
        BitConverter.GetBytes(written).CopyTo(key, ModelVerWritten);
        BitConverter.GetBytes(readable).CopyTo(key, ModelVerReadable);
        return With(ModelKey, key);
    }

    /// <summary>Whether <paramref name="offset"/> of the Model.key stream lies in the library's header block (not ML.NET's header or tail).</summary>
    public bool InHeaderBlock(int offset)
    {
        byte[] key = this[ModelKey];
        long fpModel = BitConverter.ToInt64(key, FpModel);
        return offset >= fpModel && offset < fpModel + BitConverter.ToInt64(key, CbModel);
    }

    /// <summary>A random offset inside the library's header block of the Model.key stream.</summary>
    public int HeaderBlockOffset(Random random)
    {
        byte[] key = this[ModelKey];
        long fpModel = BitConverter.ToInt64(key, FpModel);
        return (int)fpModel + random.Next((int)BitConverter.ToInt64(key, CbModel));
    }

    private static byte[] HeaderBytes(byte[] key)
    {
        int fpModel = (int)BitConverter.ToInt64(key, FpModel);
        int length = BitConverter.ToInt32(key, fpModel);
        return key[(fpModel + sizeof(int))..(fpModel + sizeof(int) + length)];
    }

    private static void Add(byte[] bytes, int offset, long delta) =>
        BitConverter.GetBytes(BitConverter.ToInt64(bytes, offset) + delta).CopyTo(bytes, offset);

    private static byte[] Read(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }
}
