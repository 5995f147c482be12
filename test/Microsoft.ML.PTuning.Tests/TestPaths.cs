using System.Reflection;
using Xunit;

namespace Microsoft.ML.PTuning.Tests;

/// <summary>Where the tests find things outside their binaries: package files, the library's sources and the shared data folder.</summary>
public static class TestPaths
{
    private static string Metadata(string key) =>
        typeof(TestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"assembly metadata '{key}' is empty");

    /// <summary>The TorchSharp package folder in the NuGet cache (read-only for tests).</summary>
    public static string TorchSharpPackageFolder => Metadata("TorchSharpPackageFolder");

    /// <summary>The library's source folder (src/Microsoft.ML.PTuning/), as the build saw it: the layering test maps types to its folders.</summary>
    public static string LibrarySourceFolder => Metadata("LibrarySourceFolder");


    /// <summary>The environment variable that names the shared data folder (banking77/, wnut17/) when it is elsewhere.</summary>
    public const string SharedDataVariable = "PTUNING_DATA";

    /// <summary>
    /// The shared data folder (read-only; never copied into the repo), or null where it is absent: the folder named by
    /// <see cref="SharedDataVariable"/>, else the first <c>shared/data</c> found beside a folder above the test binaries,
    /// which finds <c>../shared/data</c> next to the repo root.
    /// </summary>
    public static string? SharedData { get; } = FindSharedData();

    /// <summary>A file or folder under <see cref="SharedData"/>; skips the calling test with a clear message where it is absent.</summary>
    public static string RequireSharedData(string relativePath)
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable(SharedDataVariable);
        Skip.If(SharedData is null, string.IsNullOrEmpty(fromEnvironment)
            ? $"The shared data folder was not found: set {SharedDataVariable} or place it at ../shared/data beside the repo."
            : $"{SharedDataVariable} names '{fromEnvironment}', which is not a folder.");
        string path = Path.Combine(SharedData!, relativePath);
        Skip.IfNot(File.Exists(path) || Directory.Exists(path), $"'{relativePath}' is absent from the shared data folder {SharedData}.");
        return path;
    }

    /// <summary>The repository root: the first folder above the test binaries that holds Microsoft.ML.PTuning.sln.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    private static string FindRepoRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Microsoft.ML.PTuning.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} holds Microsoft.ML.PTuning.sln.");
    }

    private static string? FindSharedData()
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable(SharedDataVariable);
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return Directory.Exists(fromEnvironment) ? Path.GetFullPath(fromEnvironment) : null;
        }

        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>A new empty folder under the system temp folder.</summary>
    public static string NewTempFolder(string prefix)
    {
        string path = Path.Combine(Path.GetTempPath(), $"ptuning-{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }
}
