using System.Collections;
using System.Security.Cryptography;
using Microsoft.ML.PTuning.Modeling;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Checkpoints;

/// <summary>
/// A Hugging Face model folder loaded into memory: <c>config.json</c> and the weights of <c>model.safetensors</c>
/// (preferred) or <c>pytorch_model.bin</c>, or of the shards a <c>model.safetensors.index.json</c> /
/// <c>pytorch_model.bin.index.json</c> names, with the weights' SHA-256.
/// </summary>
/// <remarks>Owns its tensors (CPU); dispose it once its weights are loaded into an encoder.</remarks>
public sealed class HuggingFaceCheckpoint : IDisposable
{
    /// <summary>The configuration file name.</summary>
    public const string ConfigFileName = "config.json";

    /// <summary>
    /// The weight files looked for, in order of preference: a single file, else the index of a sharded checkpoint (whose
    /// shards are read as a single file is, each holding exactly the tensors the index maps to it).
    /// </summary>
    public static IReadOnlyList<string> WeightFileNames { get; } =
        ["model.safetensors", "pytorch_model.bin", ShardedCheckpointIndex.SafeTensorsIndexName, ShardedCheckpointIndex.PickleIndexName];

    // Task models store the encoder under their base-model prefix (RobertaFor*, BertFor*); bare models have none.
    private static readonly string[] BaseModelPrefixes = ["roberta.", "bert."];

    private readonly Dictionary<string, Tensor> _tensors;

    private HuggingFaceCheckpoint(EncoderConfig config, string configPath, Dictionary<string, Tensor> tensors, string weightsPath, string sha256)
    {
        Config = config;
        ConfigPath = configPath;
        _tensors = tensors;
        WeightsPath = weightsPath;
        WeightsSha256 = sha256;
    }

    /// <summary>The encoder configuration from <c>config.json</c>.</summary>
    public EncoderConfig Config { get; }

    /// <summary>Full path of <c>config.json</c>.</summary>
    public string ConfigPath { get; }

    /// <summary>Every tensor of the weight file, under the names the file uses.</summary>
    public IReadOnlyDictionary<string, Tensor> Tensors => _tensors;

    /// <summary>
    /// Lower-case hex SHA-256 of the weight file, computed once when loading; for a sharded checkpoint, of the index's
    /// and every shard's name, length and SHA-256 (<see cref="ShardedDigest"/>), so it changes with any shard.
    /// </summary>
    public string WeightsSha256 { get; }

    /// <summary>Full path of the weight file that was read (the index, for a sharded checkpoint).</summary>
    public string WeightsPath { get; }

    /// <summary>Reads <c>config.json</c> and the weights from <paramref name="folder"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">config.json or every weight file is missing (the message lists what was looked for).</exception>
    /// <exception cref="InvalidDataException">The configuration or weight file cannot be read.</exception>
    public static HuggingFaceCheckpoint Load(string folder) => Load(folder, onStep: null);

    /// <summary>As <see cref="Load(string)"/>; <paramref name="onStep"/> hears each file as it is hashed and as it is read.</summary>
    internal static HuggingFaceCheckpoint Load(string folder, Action<string>? onStep)
    {
        CheckpointFolder root = CheckpointFolder.Open(folder, "Model folder");
        string configPath = root.RequireFile(ConfigFileName);
        EncoderConfig config = EncoderConfig.Load(configPath);
        string weightsPath = root.RequireWeightFile(WeightFileNames);
        if (!ShardedCheckpointIndex.IsIndexName(Path.GetFileName(weightsPath)))
        {
            onStep?.Invoke($"hashing {Path.GetFileName(weightsPath)}");
            string sha256 = HashWeights(weightsPath);
            onStep?.Invoke($"reading {Path.GetFileName(weightsPath)}");
            return new HuggingFaceCheckpoint(config, configPath, ReadWeights(weightsPath), weightsPath, sha256);
        }

        var index = ShardedCheckpointIndex.Read(weightsPath);
        string digest = ShardedDigest(index, shard => onStep?.Invoke($"hashing {shard}"));
        var tensors = index.ReadShards(ReadWeights, shard => onStep?.Invoke($"reading {shard}"));
        return new HuggingFaceCheckpoint(config, configPath, tensors, weightsPath, digest);
    }

    /// <summary>
    /// The weight files of <paramref name="folder"/> by plain name: the single weight file, or the index and the shards it
    /// names; none when there is no weight file. An index that cannot be read counts alone (loading it says why).
    /// </summary>
    internal static IReadOnlyList<string> WeightFilesOf(string folder)
    {
        string? weights = FindWeightsFile(folder);
        if (weights == null)
            return [];
        string name = Path.GetFileName(weights);
        return ShardedCheckpointIndex.IsIndexName(name) ? [name, .. ShardedCheckpointIndex.ShardsIn(folder)] : [name];
    }

    /// <summary>
    /// The SHA-256 standing for a sharded checkpoint's weights: over the index's and each shard's (ordinal order) name,
    /// byte length and SHA-256, one line each.
    /// </summary>
    internal static string ShardedDigest(ShardedCheckpointIndex index, Action<string>? onShard = null)
    {
        var text = new System.Text.StringBuilder();
        foreach (string path in index.Shards.Select(index.ShardPath).Prepend(index.Path))
        {
            onShard?.Invoke(Path.GetFileName(path));
            text.Append(Path.GetFileName(path)).Append('\n').Append(new FileInfo(path).Length).Append('\n').Append(HashWeights(path)).Append('\n');
        }
        return Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>
    /// A new encoder with this checkpoint's weights. It has a pooler when the file has one, and always for BERT (whose
    /// classification head needs it; a pooler absent from the file keeps its random initialisation, as in HF).
    /// </summary>
    public TransformerEncoder CreateEncoder(Action<string>? log = null)
    {
        bool filePooler = _tensors.Keys.Any(k => StripBasePrefix(k).StartsWith("pooler.", StringComparison.Ordinal));
        var encoder = new TransformerEncoder(Config, addPoolingLayer: filePooler || !Config.IsRoberta);
        try
        {
            LoadInto(encoder, log);
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
        return encoder;
    }

    /// <summary>
    /// Copies the checkpoint's weights into <paramref name="encoder"/>, matching names with or without the
    /// <c>roberta.</c>/<c>bert.</c> prefix (old <c>LayerNorm.gamma</c>/<c>beta</c> names too). Tensors the encoder has no
    /// use for (<c>lm_head.*</c>, <c>cls.*</c>, <c>classifier.*</c>, buffers) are ignored and reported to <paramref name="log"/>;
    /// a pooler missing from the file keeps its initialisation (reported too).
    /// </summary>
    /// <exception cref="InvalidDataException">Tensors the encoder needs are missing (all listed) or have another shape.</exception>
    public void LoadInto(TransformerEncoder encoder, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        string file = Path.GetFileName(WeightsPath);

        // File name by encoder name; the base-model prefix (if any) is the one under which the embeddings are stored.
        string basePrefix = BaseModelPrefixes.FirstOrDefault(p => _tensors.ContainsKey(p + "embeddings.word_embeddings.weight")) ?? "";
        var byEncoderName = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string key in _tensors.Keys)
        {
            if (!key.StartsWith(basePrefix, StringComparison.Ordinal))
                continue;
            string name = key[basePrefix.Length..];
            if (name.EndsWith(".gamma", StringComparison.Ordinal))
                name = name[..^".gamma".Length] + ".weight";
            else if (name.EndsWith(".beta", StringComparison.Ordinal))
                name = name[..^".beta".Length] + ".bias";
            byEncoderName.TryAdd(name, key);
        }

        var parameters = encoder.named_parameters().ToList();
        var missing = new List<string>();
        var poolerMissing = new List<string>();
        foreach (var (name, parameter) in parameters)
        {
            if (!byEncoderName.TryGetValue(name, out string? key))
            {
                (name.StartsWith("pooler.", StringComparison.Ordinal) ? poolerMissing : missing).Add(basePrefix + name);
                continue;
            }
            Tensor source = _tensors[key];
            if (!source.shape.SequenceEqual(parameter.shape))
            {
                throw new InvalidDataException(
                    $"{file}: tensor '{key}' has shape [{string.Join(", ", source.shape)}] but the encoder built from " +
                    $"{ConfigFileName} expects [{string.Join(", ", parameter.shape)}].");
            }
        }
        if (missing.Count > 0)
        {
            throw new InvalidDataException(
                $"{file} ({WeightsPath}) lacks {missing.Count} tensor(s) the {Config.ModelType} encoder needs: {string.Join(", ", missing)}.");
        }

        using (torch.no_grad())
        {
            foreach (var (name, parameter) in parameters)
            {
                if (byEncoderName.TryGetValue(name, out string? key))
                    parameter.copy_(_tensors[key]);
            }
        }

        if (poolerMissing.Count > 0)
            log?.Invoke($"{file}: no pooler weights ({string.Join(", ", poolerMissing)}); the pooler keeps its random initialisation.");
        var used = parameters.Select(p => p.name).Where(byEncoderName.ContainsKey).Select(n => byEncoderName[n]).ToHashSet(StringComparer.Ordinal);
        var ignored = _tensors.Keys.Where(k => !used.Contains(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        if (ignored.Count > 0)
            log?.Invoke($"{file}: ignored {ignored.Count} tensor(s) the encoder does not use: {string.Join(", ", ignored)}.");
    }

    /// <summary>
    /// The checkpoint's masked-language-model head over <paramref name="encoder"/> (its decoder tied to the encoder's word
    /// embeddings), or null when the file has none: RoBERTa's <c>lm_head.dense</c>, <c>lm_head.layer_norm</c>,
    /// <c>lm_head.bias</c>; BERT's <c>cls.predictions.transform.dense</c>, <c>cls.predictions.transform.LayerNorm</c>,
    /// <c>cls.predictions.bias</c> (the bias may also be stored as the tied <c>decoder.bias</c>). Bare encoders
    /// (<c>RobertaModel</c>, <c>BertModel</c>, the MiniLM ONNX import) have none.
    /// </summary>
    /// <exception cref="InvalidDataException">The file holds part of a head (missing tensors listed) or a tensor of another shape.</exception>
    public MaskedLanguageModelHead? CreateMaskedLanguageModelHead(TransformerEncoder encoder, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        bool roberta = Config.IsRoberta;
        string file = Path.GetFileName(WeightsPath);
        var head = new MaskedLanguageModelHead(encoder);
        try
        {
            var sources = new List<(TorchSharp.Modules.Parameter Target, string Name)>();
            var missing = new List<string>();
            foreach (var (name, parameter) in head.named_parameters())
            {
                string key = MaskedLanguageModelHead.HuggingFaceName(name, roberta);
                if (name == "bias" && !_tensors.ContainsKey(key) && _tensors.ContainsKey(MaskedLanguageModelHead.DecoderBiasName(roberta)))
                    key = MaskedLanguageModelHead.DecoderBiasName(roberta);
                if (_tensors.TryGetValue(key, out Tensor? source))
                {
                    if (!source.shape.SequenceEqual(parameter.shape))
                    {
                        throw new InvalidDataException(
                            $"{file}: tensor '{key}' has shape [{string.Join(", ", source.shape)}] but the masked-language-model head built from " +
                            $"{ConfigFileName} expects [{string.Join(", ", parameter.shape)}].");
                    }
                    sources.Add((parameter, key));
                }
                else
                {
                    missing.Add(key);
                }
            }
            if (sources.Count == 0)
            {
                head.Dispose();
                return null;
            }
            if (missing.Count > 0)
            {
                throw new InvalidDataException(
                    $"{file} ({WeightsPath}) holds part of a masked-language-model head but lacks {string.Join(", ", missing)}.");
            }
            using (torch.no_grad())
            {
                foreach (var (target, key) in sources)
                    target.copy_(_tensors[key]);
            }
            log?.Invoke($"{file}: masked-language-model head {(roberta ? "lm_head.*" : "cls.predictions.*")} loaded (decoder tied to the word embeddings).");
            return head;
        }
        catch
        {
            head.Dispose();
            throw;
        }
    }

    /// <summary>Releases the checkpoint's tensors.</summary>
    public void Dispose()
    {
        foreach (Tensor t in _tensors.Values)
            t.Dispose();
        _tensors.Clear();
    }

    private static string StripBasePrefix(string key) =>
        BaseModelPrefixes.FirstOrDefault(p => key.StartsWith(p, StringComparison.Ordinal)) is string p ? key[p.Length..] : key;

    /// <summary>The folder's weight file (the first of <see cref="WeightFileNames"/> that exists), or null.</summary>
    public static string? FindWeightsFile(string folder) => CheckpointFolder.FindFirst(folder, WeightFileNames);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Path, long Length, DateTime Written), string> Hashes = new();

    /// <summary>
    /// Lower-case hex SHA-256 of a weight file (or any other file of the folder: config.json, tokenizer files); cached by
    /// path, size and write time, so a file is hashed once per process even when a saved model checks its base and then loads it.
    /// </summary>
    public static string HashWeights(string path)
    {
        var info = new FileInfo(path);
        return Hashes.GetOrAdd((info.FullName, info.Length, info.LastWriteTimeUtc), key =>
        {
            using FileStream stream = File.OpenRead(key.Path);
            return Convert.ToHexStringLower(SHA256.HashData(stream));
        });
    }

    // Safetensors go through the strict reader, whose errors name the file and tensor; a pickle's errors are wrapped.
    internal static Dictionary<string, Tensor> ReadWeights(string path)
    {
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            return SafeTensorsReader.Read(path);

        try
        {
            Hashtable table = PyTorchUnpickler.UnpickleStateDict(path);
            var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (DictionaryEntry entry in table)
            {
                if (entry.Key is string name && entry.Value is Tensor tensor)
                    tensors[name] = tensor;
            }
            return tensors;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"Cannot read weight file '{path}': {e.Message}", e);
        }
    }
}
