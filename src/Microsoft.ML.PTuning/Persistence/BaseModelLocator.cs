using Microsoft.ML.PTuning.Checkpoints;

namespace Microsoft.ML.PTuning.Persistence;

/// <summary>Finds the base model a zip saved without its base was trained on, by the SHA-256 of its weights.</summary>
internal static class BaseModelLocator
{
    /// <summary>
    /// The recorded base folder if its weights match, else the first registered or environment folder whose weights do
    /// (<see cref="PrefixTuningBaseModels"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">No folder holds those weights; the message lists what was searched.</exception>
    public static string Locate(string recordedFolder, string sha)
    {
        var tried = new List<string>();
        foreach (string candidate in PrefixTuningBaseModels.SearchFolders().Prepend(recordedFolder))
        {
            string? weights = HuggingFaceCheckpoint.FindWeightsFile(candidate);
            if (weights == null)
            {
                tried.Add($"'{candidate}' (no weights)");
                continue;
            }
            string actual = HuggingFaceCheckpoint.HashWeights(weights);
            if (string.Equals(actual, sha, StringComparison.OrdinalIgnoreCase))
                return candidate;
            tried.Add($"'{candidate}' (weights SHA-256 {actual})");
        }
        throw Mismatch(recordedFolder, sha, "searched " + string.Join(", ", tried));
    }

    /// <summary>The error for a base model that is not where the zip says, nor anywhere searched.</summary>
    public static Exception Mismatch(string recordedFolder, string sha, string detail) => new InvalidOperationException(
        $"This prefix-tuning model needs its base model: the folder saved as '{recordedFolder}' with weights SHA-256 {sha}. " +
        $"It was not found ({detail}). Put that base model back at its path, or point to a copy with " +
        $"PrefixTuningBaseModels.Register(folder) or the environment variable {PrefixTuningBaseModels.EnvironmentVariable} " +
        "before calling mlContext.Model.Load; or retrain with EmbedBaseModel = true for a self-contained zip.");
}
