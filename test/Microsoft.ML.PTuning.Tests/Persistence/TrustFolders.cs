using Microsoft.ML.PTuning.Persistence;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Persistence;

/// <summary>
/// The folders of a test that loads untrusted zips, under one short temp root: the embedded-base cache (the library's
/// cache is pointed here while the test runs), the zips, and an empty sentinel folder that crafted names aim at.
/// </summary>
public sealed class TrustFolders : IDisposable
{
    private int _variants;

    public TrustFolders()
    {
        // Short, so that a 64-character "digest" can spell an absolute path into it.
        Root = Path.Combine(Path.GetTempPath(), "ptz-" + Guid.NewGuid().ToString("N")[..8]);
        Cache = Path.Combine(Root, "cache");
        Sentinel = Path.Combine(Root, "sentinel");
        Zips = Path.Combine(Root, "zips");
        Directory.CreateDirectory(Sentinel);
        Directory.CreateDirectory(Zips);
        EmbeddedBaseCache.RootOverride = Cache;
    }

    public string Root { get; }
    public string Cache { get; }
    public string Sentinel { get; }
    public string Zips { get; }

    /// <summary>Saves <paramref name="model"/> as <paramref name="name"/> in <see cref="Zips"/>.</summary>
    public string SaveZip(MLContext mlContext, ITransformer model, IDataView data, string name)
    {
        string path = Path.Combine(Zips, name);
        mlContext.Model.Save(model, data.Schema, path);
        return path;
    }

    /// <summary>A fresh path in <see cref="Zips"/> for the next variant.</summary>
    public string VariantPath() => Path.Combine(Zips, $"variant-{_variants++}.zip");

    public void ClearCache()
    {
        if (Directory.Exists(Cache))
            Directory.Delete(Cache, recursive: true);
    }

    /// <summary>
    /// Nothing in <see cref="Sentinel"/>, nothing in the root but the three folders, and nothing in the cache but
    /// folders named by a 64-digit identity holding plain files (no staging folder left behind).
    /// </summary>
    public void AssertNothingWrittenOutsideTheCache()
    {
        Assert.Empty(Directory.GetFileSystemEntries(Sentinel));
        Assert.Empty(Directory.GetFileSystemEntries(Root).Select(Path.GetFileName).Except(["cache", "sentinel", "zips"]));
        if (!Directory.Exists(Cache))
            return;
        foreach (string entry in Directory.GetFileSystemEntries(Cache))
        {
            Assert.Matches("^[0-9a-f]{64}$", Path.GetFileName(entry));
            Assert.Empty(Directory.GetDirectories(entry));
        }
    }

    /// <summary>A 64-character string that is a path to <paramref name="folder"/> (padded with "/." segments).</summary>
    public static string PathLike64(string folder)
    {
        string value = folder;
        while (value.Length < 63)
            value += "/.";
        return value.Length == 63 ? value + "/" : value[..64];
    }

    public void Dispose()
    {
        EmbeddedBaseCache.RootOverride = null;
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
