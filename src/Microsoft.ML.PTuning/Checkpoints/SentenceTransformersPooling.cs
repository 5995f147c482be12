using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.PTuning.Modeling;

namespace Microsoft.ML.PTuning.Checkpoints;

/// <summary>
/// The pooling a sentence-transformers model folder declares: <c>modules.json</c> lists the modules, the one of type
/// <c>sentence_transformers.models.Pooling</c> names its folder (usually <c>1_Pooling</c>), whose <c>config.json</c>
/// sets one <c>pooling_mode_*</c> flag. A folder without <c>modules.json</c> is a plain Hugging Face folder.
/// </summary>
internal static class SentenceTransformersPooling
{
    /// <summary>The sentence-transformers module list.</summary>
    public const string ModulesFileName = "modules.json";

    /// <summary>The pooling module's folder as the sentence-transformers layout (and the ONNX import) writes it.</summary>
    public const string DefaultPoolingFolder = "1_Pooling";

    /// <summary>The module type of the pooling module.</summary>
    public const string PoolingModuleType = "sentence_transformers.models.Pooling";

    private const string TransformerModuleType = "sentence_transformers.models.Transformer";
    private const long MaxFileBytes = 1 << 20;

    private const string ClsFlag = "pooling_mode_cls_token";
    private const string MeanFlag = "pooling_mode_mean_tokens";

    // Every pooling flag sentence-transformers writes; only the first two map to a mode this library has.
    private static readonly string[] Flags =
    {
        ClsFlag, MeanFlag, "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens",
        "pooling_mode_lasttoken",
    };

    /// <summary>
    /// <see cref="PoolingMode.Cls"/> or <see cref="PoolingMode.Mean"/> as <paramref name="folder"/>'s pooling module says,
    /// or null when the folder has no <c>modules.json</c> or no pooling module in it.
    /// </summary>
    /// <exception cref="InvalidDataException">A file is malformed or too large, the module's path leaves the folder, or the
    /// pooling config sets no mode (each message names the file).</exception>
    /// <exception cref="NotSupportedException">The pooling is one this library does not have (max, weighted mean, ...), or
    /// several modes are combined.</exception>
    public static PoolingMode? Read(string folder)
    {
        string modulesPath = Path.Combine(folder, ModulesFileName);
        if (!File.Exists(modulesPath))
            return null;
        string? poolingFolder = PoolingModuleFolder(modulesPath);
        if (poolingFolder is null)
            return null;
        string configPath = Path.Combine(folder, poolingFolder, "config.json");
        if (!File.Exists(configPath))
            throw new InvalidDataException($"{modulesPath} names the pooling module folder '{poolingFolder}', which has no config.json.");
        JsonObject config = PoolingConfigJson(configPath);
        string[] set = Flags.Where(flag => EncoderConfig.ReadBool(config, flag, configPath)).ToArray();
        return set switch
        {
            [ClsFlag] => PoolingMode.Cls,
            [MeanFlag] => PoolingMode.Mean,
            [] => throw new InvalidDataException($"{configPath} sets none of {string.Join(", ", Flags)} to true."),
            _ => throw new NotSupportedException(
                $"{configPath} pools with {string.Join(" + ", set)}; this library pools with {ClsFlag} or {MeanFlag} alone. " +
                "Set PrefixTuningTextClassificationOptions.Pooling to Cls or Mean explicitly to use this folder."),
        };
    }

    /// <summary>
    /// The <c>modules.json</c> and <c>1_Pooling/config.json</c> a sentence-transformers folder holds for a model that pools
    /// with <paramref name="pooling"/> (what the ONNX import writes for an export it recognises).
    /// </summary>
    public static (JsonArray Modules, JsonObject PoolingConfig) Describe(PoolingMode pooling, int hiddenSize)
    {
        if (pooling is not (PoolingMode.Cls or PoolingMode.Mean))
            throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "Only Cls or Mean pooling can be written.");
        var modules = new JsonArray(
            new JsonObject { ["idx"] = 0, ["name"] = "0", ["path"] = "", ["type"] = TransformerModuleType },
            new JsonObject { ["idx"] = 1, ["name"] = "1", ["path"] = DefaultPoolingFolder, ["type"] = PoolingModuleType });
        var config = new JsonObject { ["word_embedding_dimension"] = hiddenSize };
        foreach (string flag in Flags)
            config[flag] = flag == (pooling == PoolingMode.Cls ? ClsFlag : MeanFlag);
        return (modules, config);
    }

    // The pooling module's path, checked to be one plain folder name inside the model folder.
    private static string? PoolingModuleFolder(string modulesPath)
    {
        JsonNode? root = ParseBounded(modulesPath);
        if (root is not JsonArray modules)
            throw new InvalidDataException($"{modulesPath}: expected a JSON array of modules.");
        string? found = null;
        foreach (JsonNode? module in modules)
        {
            if (module is not JsonObject entry)
                throw new InvalidDataException($"{modulesPath}: every module must be a JSON object.");
            if (EncoderConfig.ReadString(entry, "type", modulesPath) != PoolingModuleType)
                continue;
            string path = EncoderConfig.ReadString(entry, "path", modulesPath)
                ?? throw new InvalidDataException($"{modulesPath}: the pooling module has no 'path'.");
            bool plain = path.Length is > 0 and <= 255 && path is not ("." or "..")
                && path.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');
            if (!plain)
                throw new InvalidDataException($"{modulesPath}: the pooling module's path must be one folder name inside the model folder (letters, digits, '_', '-', '.').");
            if (found is not null)
                throw new InvalidDataException($"{modulesPath}: more than one pooling module.");
            found = path;
        }
        return found;
    }

    private static JsonObject PoolingConfigJson(string path) =>
        ParseBounded(path) as JsonObject ?? throw new InvalidDataException($"{path}: expected a JSON object at the top level.");

    private static JsonNode? ParseBounded(string path)
    {
        long length = new FileInfo(path).Length;
        if (length > MaxFileBytes)
            throw new InvalidDataException($"{path} is {length} bytes; a sentence-transformers configuration file is at most {MaxFileBytes}.");
        try
        {
            return JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message}).", e);
        }
    }
}
