using Microsoft.ML.PTuning.Checkpoints;
using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Runtime;

namespace Microsoft.ML.PTuning.Persistence;

/// <summary>
/// Finds the base model a zip saved without its base was trained on: a folder whose weights, config.json and tokenizer
/// files all have the digests the zip records (and that has no other tokenizer file the model would read).
/// </summary>
internal static class BaseModelLocator
{
    /// <summary>
    /// The recorded base folder if it matches, else the first registered or environment folder that does
    /// (<see cref="PrefixTuningBaseModels"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">No folder matches; the message says, for each folder searched, what differs.</exception>
    public static string Locate(string recordedFolder, IReadOnlyList<BaseModelFile> files)
    {
        var weights = files.Single(f => HuggingFaceCheckpoint.WeightFileNames.Contains(f.Name));
        var tried = new List<string>();
        foreach (string candidate in PrefixTuningBaseModels.SearchFolders().Prepend(recordedFolder))
        {
            string? path = HuggingFaceCheckpoint.FindWeightsFile(candidate);
            if (path == null)
            {
                tried.Add($"'{candidate}' (no weights)");
                continue;
            }
            string sha;
            string? difference;
            try
            {
                sha = HuggingFaceCheckpoint.HashWeights(path);
                difference = Path.GetFileName(path) == weights.Name && sha == weights.Sha256 ? Difference(files, OnDisk(candidate, files)) : null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                tried.Add($"'{candidate}' (unreadable: {e.Message})");
                continue;
            }
            if (Path.GetFileName(path) != weights.Name || sha != weights.Sha256)
            {
                tried.Add($"'{candidate}' (weights {Path.GetFileName(path)} SHA-256 {sha})");
                continue;
            }
            if (difference == null)
                return candidate;
            tried.Add($"'{candidate}' (same weights, but {difference})");
        }
        throw Mismatch(recordedFolder, weights, "searched " + string.Join(", ", tried));
    }

    /// <summary>
    /// The first way <paramref name="actual"/> differs from <paramref name="expected"/> (a file missing, another digest, a
    /// file the model would read that was not there when it was saved), or null when they are the same files.
    /// </summary>
    public static string? Difference(IReadOnlyList<BaseModelFile> expected, IReadOnlyList<BaseModelFile> actual)
    {
        foreach (var file in expected)
        {
            var found = actual.FirstOrDefault(f => f.Name == file.Name);
            if (found == null)
                return $"{file.Name} is missing";
            if (found.Sha256 != file.Sha256)
                return $"{file.Name} differs: expected SHA-256 {file.Sha256}, found {found.Sha256}";
        }
        var extra = actual.FirstOrDefault(f => expected.All(e => e.Name != f.Name));
        return extra == null ? null : $"{extra.Name} is present, but the base the model was saved with had none";
    }

    /// <summary>The error for a base model that is not where the zip says, nor anywhere searched.</summary>
    public static Exception Mismatch(string recordedFolder, BaseModelFile weights, string detail) => new InvalidOperationException(
        $"This prefix-tuning model needs its base model: the folder saved as '{recordedFolder}' with weights {weights.Name} " +
        $"SHA-256 {weights.Sha256}, and the config.json and tokenizer files it had then. " +
        $"It was not found ({detail}). Put that base model back at its path, or point to an unchanged copy with " +
        $"PrefixTuningBaseModels.Register(folder) or the environment variable {PrefixTuningBaseModels.EnvironmentVariable} " +
        "before calling mlContext.Model.Load; or retrain with EmbedBaseModel = true for a self-contained zip.");

    // The candidate's identity files as loading it would see them; when its config.json cannot be read it differs from
    // the recorded one anyway, and the recorded names alone show that.
    private static IReadOnlyList<BaseModelFile> OnDisk(string folder, IReadOnlyList<BaseModelFile> expected)
    {
        try
        {
            string modelType = EncoderConfig.Load(Path.Combine(folder, HuggingFaceCheckpoint.ConfigFileName)).ModelType;
            return BaseModel.IdentityOf(folder, modelType);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException)
        {
            return BaseModel.Describe(folder, expected.Select(f => f.Name));
        }
    }
}
