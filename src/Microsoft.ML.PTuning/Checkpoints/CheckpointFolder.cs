using System.Text.Json.Nodes;
using Microsoft.ML.PTuning.Modeling;

namespace Microsoft.ML.PTuning.Checkpoints;

/// <summary>
/// A saved-model folder (Hugging Face model, PEFT adapter) being opened: the checks every loader makes before it reads
/// anything, so that a missing folder, configuration or weight file is reported the same way whichever loader met it.
/// </summary>
internal sealed class CheckpointFolder
{
    private CheckpointFolder(string label, string root) => (Label, Root) = (label, root);

    /// <summary>What the folder is, as it opens every message ("Model folder", "Adapter folder").</summary>
    public string Label { get; }

    /// <summary>Full path of the folder.</summary>
    public string Root { get; }

    /// <summary>Resolves <paramref name="folder"/> to a full path and checks that it exists.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public static CheckpointFolder Open(string folder, string label)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        string root = Path.GetFullPath(folder);
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"{label} '{root}' does not exist.");
        return new CheckpointFolder(label, root);
    }

    /// <summary>Full path of the folder's <paramref name="fileName"/>, which must exist.</summary>
    /// <exception cref="FileNotFoundException">The file is missing (its path is the exception's file name).</exception>
    public string RequireFile(string fileName)
    {
        string path = Path.Combine(Root, fileName);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{Label} '{Root}' has no {fileName}.", path);
        return path;
    }

    /// <summary>
    /// Full path of the first of <paramref name="fileNames"/> that exists. <paramref name="hint"/> gets the folder's path
    /// and may add a sentence to the message when none does (why the usual files are not there).
    /// </summary>
    /// <exception cref="FileNotFoundException">None of the files exists; the message lists them all.</exception>
    public string RequireWeightFile(IReadOnlyList<string> fileNames, Func<string, string>? hint = null) =>
        FindFirst(Root, fileNames)
        ?? throw new FileNotFoundException(
            $"{Label} '{Root}' has no weight file; looked for {string.Join(", ", fileNames)}.{hint?.Invoke(Root)}",
            Path.Combine(Root, fileNames[0]));

    // Static and unchecked: callers outside the loaders probe folders that need not exist or be complete.
    /// <summary>The first of <paramref name="fileNames"/> in <paramref name="folder"/> that exists, or null.</summary>
    public static string? FindFirst(string folder, IReadOnlyList<string> fileNames) =>
        fileNames.Select(name => Path.Combine(folder, name)).FirstOrDefault(File.Exists);

    // The parsing itself lives in Modeling, which parses config.json too and must not depend on Checkpoints.
    /// <summary>Reads a JSON configuration file whose top level must be an object; errors name <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not valid JSON or not an object.</exception>
    public static JsonObject ReadJsonObject(string path) => EncoderConfig.ParseObject(File.ReadAllText(path), path);
}
