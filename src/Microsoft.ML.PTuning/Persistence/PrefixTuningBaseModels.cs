using System.Collections.Concurrent;

namespace Microsoft.ML.PTuning;

/// <summary>
/// Where <c>mlContext.Model.Load</c> looks for the base model of a prefix-tuning zip saved without
/// <see cref="PrefixTuningOptions.EmbedBaseModel"/>. The zip records the base folder's path and the SHA-256 of its
/// weights; when that folder is gone or holds other weights, these folders are searched for matching weights:
/// those passed to <see cref="Register"/>, then those in the environment variable
/// <c>PTUNING_BASE_MODEL_PATH</c> (separated by the platform's path separator).
/// </summary>
public static class PrefixTuningBaseModels
{
    /// <summary>The environment variable listing base model folders.</summary>
    public const string EnvironmentVariable = "PTUNING_BASE_MODEL_PATH";

    private static readonly ConcurrentQueue<string> Registered = new();

    /// <summary>Adds a Hugging Face model folder to search when a saved model's recorded base is not found.</summary>
    public static void Register(string folder)
    {
        if (string.IsNullOrWhiteSpace(folder))
            throw new ArgumentException("folder must name a Hugging Face model folder.", nameof(folder));
        Registered.Enqueue(Path.GetFullPath(folder));
    }

    /// <summary>Registered folders first, then those of <see cref="EnvironmentVariable"/>.</summary>
    internal static IEnumerable<string> SearchFolders()
    {
        foreach (string folder in Registered)
            yield return folder;
        string? fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrEmpty(fromEnvironment))
            yield break;
        foreach (string folder in fromEnvironment.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            yield return folder;
    }
}
