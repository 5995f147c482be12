using System.IO.Compression;
using System.Security.Cryptography;

namespace Microsoft.ML.PTuning.Persistence;

/// <summary>
/// Reads a stream of the model's folder in the zip with the byte length and SHA-256 its header records: at most that
/// many bytes plus one are inflated, so an entry longer than declared fails after its first extra byte, not after
/// filling the disk.
/// </summary>
/// <remarks>
/// ML.NET's own <c>TryLoadBinaryStream</c> inflates a whole entry (to a temp file or memory) before handing it over, so
/// this reads the archive entry itself, found the way ML.NET finds it (see docs/MLNET-INTERNALS.md).
/// </remarks>
internal static class ZipEntryReader
{
    private const int BufferSize = 81920;

    /// <summary>
    /// Copies the stream <paramref name="name"/> into <paramref name="target"/> and checks that it holds exactly
    /// <paramref name="length"/> bytes whose SHA-256 is <paramref name="sha256"/>.
    /// </summary>
    /// <exception cref="FormatException">The stream is missing, unreadable, longer or shorter than declared, or has another digest.</exception>
    public static void Copy(ModelLoadContext ctx, string name, long length, string sha256, Stream target)
    {
        ZipArchiveEntry entry = Find(ctx, name) ?? throw ModelZipFormat.Corrupt($"the stream '{name}' is missing");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[BufferSize];
        long total = 0;
        Stream source = Inflate(entry, name);
        using (source)
        {
            while (total <= length)
            {
                // length ≤ ModelZipHeader.MaxFileBytes or Array.MaxLength: no overflow.
                int read = ReadSome(source, buffer, (int)Math.Min(buffer.Length, length - total + 1), name);
                if (read == 0)
                    break;
                total += read;
                hash.AppendData(buffer, 0, read);
                if (total <= length)
                    target.Write(buffer, 0, read);
            }
        }
        if (total > length)
            throw ModelZipFormat.Corrupt($"the stream '{name}' is longer than the {length} bytes its header declares");
        if (total < length)
            throw ModelZipFormat.Corrupt($"the stream '{name}' holds {total} bytes, its header declares {length}");
        string actual = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (actual != sha256)
            throw ModelZipFormat.Corrupt($"the stream '{name}' does not match the SHA-256 its header records (expected {sha256}, found {actual})");
    }

    /// <summary>The whole stream, checked as by <see cref="Copy"/>.</summary>
    public static byte[] ReadAll(ModelLoadContext ctx, string name, long length, string sha256)
    {
        if (length > Array.MaxLength)
            throw ModelZipFormat.Corrupt($"the stream '{name}' declares {length} bytes, more than can be read into memory");
        var memory = new MemoryStream();
        Copy(ctx, name, length, sha256, memory);
        return memory.ToArray();
    }

    // The entry ML.NET's RepositoryReader.OpenEntryOrNull would open: the name under the context's folder, '/' or '\'.
    private static ZipArchiveEntry? Find(ModelLoadContext ctx, string name)
    {
        var repository = ctx.Repository ?? throw ModelZipFormat.Corrupt($"the stream '{name}' cannot be read: the model is not in a zip repository");
        repository.GetPath(out string path, out _, ctx.Directory, name, false);
        return repository._entries.TryGetValue(path, out ZipArchiveEntry? entry) || repository._entries.TryGetValue(path.Replace('/', '\\'), out entry)
            ? entry
            : null;
    }

    private static Stream Inflate(ZipArchiveEntry entry, string name)
    {
        try
        {
            return entry.Open();
        }
        catch (Exception e) when (e is InvalidDataException or IOException or NotSupportedException)
        {
            throw new FormatException($"The prefix-tuning model in this zip is corrupt: the stream '{name}' cannot be opened ({e.Message}).", e);
        }
    }

    private static int ReadSome(Stream source, byte[] buffer, int count, string name)
    {
        try
        {
            return source.Read(buffer, 0, count);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw new FormatException($"The prefix-tuning model in this zip is corrupt: the stream '{name}' cannot be inflated ({e.Message}).", e);
        }
    }
}
