using System.Collections.Concurrent;
using Microsoft.ML.PTuning.Checkpoints;
using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Tokenization;
using TorchSharp;

namespace Microsoft.ML.PTuning.Runtime;

/// <summary>
/// A loaded, frozen backbone: its config, tokenizer and encoder weights, identified by the SHA-256 of every file it is
/// read from (<see cref="IdentityFiles"/>: config.json, the weight file, the tokenizer files).
/// Loaded at most once per folder, device and precision per process (<see cref="Load"/> caches), so a sweep's trials
/// and several loaded model zips share one copy. Full fine-tuning works on a clone, never on the shared instance.
/// In <see cref="ComputePrecision.BFloat16"/> the encoder's weights are held in bf16 (half the memory of fp32).
/// </summary>
internal sealed class BaseModel
{
    private static readonly ConcurrentDictionary<(string Folder, string Device, ComputePrecision Precision), Lazy<BaseModel>> Cache = new();
    private static readonly ConcurrentDictionary<string, int> LoadsPerFolder = new();
    private static int _loads;

    private BaseModel(string folder, EncoderConfig config, EncoderTokenizer tokenizer, TransformerEncoder encoder, string sha256, string weightsPath,
        IReadOnlyList<BaseModelFile> identityFiles, torch.Device device, ComputePrecision precision, MaskedLanguageModelHead? maskedLanguageModelHead)
    {
        MaskedLanguageModelHead = maskedLanguageModelHead;
        Precision = precision;
        Folder = folder;
        IdentityFiles = identityFiles;
        Config = config;
        Tokenizer = tokenizer;
        Encoder = encoder;
        WeightsSha256 = sha256;
        WeightsPath = weightsPath;
        Device = device;
    }

    /// <summary>How many times a base model was read from disk in this process (tests observe the sharing).</summary>
    public static int LoadCount => Volatile.Read(ref _loads);

    /// <summary>
    /// How many times the base model in <paramref name="folder"/> was read from disk in this process, on any device.
    /// Unlike <see cref="LoadCount"/> it ignores loads of other folders by code running at the same time.
    /// </summary>
    public static int LoadCountOf(string folder) => LoadsPerFolder.TryGetValue(Path.GetFullPath(folder), out int count) ? count : 0;

    public string Folder { get; }
    public EncoderConfig Config { get; }
    public EncoderTokenizer Tokenizer { get; }
    /// <summary>The shared encoder: frozen (no gradients), in eval mode. Never train it in place.</summary>
    public TransformerEncoder Encoder { get; }

    /// <summary>
    /// The checkpoint's masked-language-model head over <see cref="Encoder"/> (decoder tied to its word embeddings), frozen
    /// and in eval mode like it, or null when the weight file has none (bare encoders, the MiniLM ONNX import).
    /// </summary>
    public MaskedLanguageModelHead? MaskedLanguageModelHead { get; }
    public string WeightsSha256 { get; }
    public string WeightsPath { get; }

    /// <summary>
    /// The files this base was read from, with their digests as they were when it was loaded (computed once):
    /// config.json, the weight file, then the tokenizer files present (<see cref="EncoderTokenizer.FileNames"/>).
    /// </summary>
    public IReadOnlyList<BaseModelFile> IdentityFiles { get; }
    public torch.Device Device { get; }

    /// <summary>The precision the encoder is held and run in: Float32 or BFloat16, never Auto.</summary>
    public ComputePrecision Precision { get; }

    /// <summary>
    /// Taken by everything that sets the shared encoder's train/eval mode and runs it (training steps, inference), so a
    /// Fit on this base and predictions with another model over it do not switch each other's dropout on or off.
    /// </summary>
    public object ModeGate { get; } = new();

    /// <summary>
    /// Loads (or returns the cached) base model from a Hugging Face folder onto <paramref name="device"/>, in
    /// <paramref name="precision"/> (Auto is resolved for the device first). A cached model any of whose
    /// <see cref="IdentityFiles"/> has changed since (size or write time, or a tokenizer file appeared or went) is read
    /// again, so it never stands for other files.
    /// </summary>
    /// <remarks><paramref name="progress"/> hears each step of a read from disk, or one report when the cached copy is used.</remarks>
    public static BaseModel Load(string folder, torch.Device device, Action<string>? log, ComputePrecision precision = ComputePrecision.Float32,
        Action<BaseModelLoadReport>? progress = null)
    {
        precision = PrecisionSelection.Resolve(precision, device);
        var key = (Path.GetFullPath(folder), device.ToString(), precision);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            bool read = false;
            var lazy = Cache.GetOrAdd(key, k => new Lazy<BaseModel>(() =>
            {
                read = true;
                return Read(k.Folder, device, k.Precision, log, progress, clock);
            }));
            BaseModel model;
            try
            {
                model = lazy.Value;
            }
            catch
            {
                Cache.TryRemove(new KeyValuePair<(string, string, ComputePrecision), Lazy<BaseModel>>(key, lazy));
                throw;
            }
            if (model.FilesUnchanged())
            {
                if (!read)
                    progress?.Invoke(new BaseModelLoadReport("ready (already loaded in this process)", 1, 1, clock.Elapsed, Cached: true));
                return model;
            }
            // Models already built on the old instance keep it; new users get the folder's current weights.
            Cache.TryRemove(new KeyValuePair<(string, string, ComputePrecision), Lazy<BaseModel>>(key, lazy));
        }
    }

    private string _filesStamp = "";

    // Every file a base of either model type may be read from; the stamp needs no config, so it can precede all reads.
    private static readonly string[] IdentityCandidates = HuggingFaceCheckpoint.WeightFileNames.Prepend(HuggingFaceCheckpoint.ConfigFileName)
        .Concat(EncoderTokenizer.FileNames(EncoderTokenizer.BertModelType)).Concat(EncoderTokenizer.FileNames(EncoderTokenizer.RobertaModelType))
        .Distinct().ToArray();

    // Size and write time of each of those files, present or not, and of the shards a sharded checkpoint's index names.
    private static string Stamp(string folder) => string.Join('|',
        IdentityCandidates.Concat(HuggingFaceCheckpoint.WeightFilesOf(folder).Skip(1)).Select(name => new FileInfo(Path.Combine(folder, name)))
            .Select(info => info.Exists ? $"{info.Name}:{info.Length}:{info.LastWriteTimeUtc.Ticks}" : "-"));

    private bool FilesUnchanged() => Stamp(Folder) == _filesStamp;

    /// <summary>
    /// The identity files of the base model in <paramref name="folder"/> as they are on disk now: config.json, the weight
    /// file <see cref="HuggingFaceCheckpoint"/> would read (for a sharded checkpoint the index, then every shard it names),
    /// and the tokenizer files of <paramref name="modelType"/> present.
    /// </summary>
    public static IReadOnlyList<BaseModelFile> IdentityOf(string folder, string modelType)
    {
        var names = new List<string> { HuggingFaceCheckpoint.ConfigFileName };
        names.AddRange(HuggingFaceCheckpoint.WeightFilesOf(folder));
        names.AddRange(EncoderTokenizer.FileNames(modelType));
        return Describe(folder, names);
    }

    /// <summary>Length and SHA-256 of those of <paramref name="names"/> that exist in <paramref name="folder"/>, in that order.</summary>
    public static IReadOnlyList<BaseModelFile> Describe(string folder, IEnumerable<string> names) =>
        names.Select(name => new FileInfo(Path.Combine(folder, name))).Where(info => info.Exists)
            .Select(info => new BaseModelFile(info.Name, info.Length, HuggingFaceCheckpoint.HashWeights(info.FullName)))
            .ToArray();

    private static BaseModel Read(string folder, torch.Device device, ComputePrecision precision, Action<string>? log,
        Action<BaseModelLoadReport>? progress, System.Diagnostics.Stopwatch clock)
    {
        Interlocked.Increment(ref _loads);
        LoadsPerFolder.AddOrUpdate(folder, 1, (_, count) => count + 1);
        log?.Invoke($"Loading base model from '{folder}' ({precision}).");
        // Stamped before the files are hashed and read: a file replaced meanwhile shows as changed at the next Load.
        string stamp = Stamp(folder);
        // Each weight file is hashed, and each but a shard index read; then the identity, the encoder, the move.
        var weightFiles = HuggingFaceCheckpoint.WeightFilesOf(folder);
        int total = weightFiles.Count + (weightFiles.Count > 1 ? weightFiles.Count - 1 : 1) + 3;
        int completed = 0;
        void Step(string step)
        {
            progress?.Invoke(new BaseModelLoadReport(step, Math.Min(completed, total - 1), total, clock.Elapsed, Cached: false));
            completed++;
        }
        using var checkpoint = HuggingFaceCheckpoint.Load(folder, Step);
        Step("hashing config.json and the tokenizer files");
        var identity = IdentityOf(folder, checkpoint.Config.ModelType);
        var tokenizer = EncoderTokenizer.FromFolder(folder, checkpoint.Config.ModelType);
        Step("building the encoder");
        var encoder = checkpoint.CreateEncoder(log);
        MaskedLanguageModelHead? mlm;
        try
        {
            mlm = checkpoint.CreateMaskedLanguageModelHead(encoder, log);
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
        RefuseNonFinite(encoder, mlm, checkpoint.WeightsPath);
        Step($"moving the encoder to {device} ({precision})");
        // Built and read in fp32 on the CPU, then converted and moved in one step.
        encoder.to(device, PrecisionSelection.ElementType(precision));
        mlm?.to(device, PrecisionSelection.ElementType(precision));
        foreach (var parameter in encoder.parameters().Concat(mlm?.parameters() ?? []))
            parameter.requires_grad = false;
        encoder.eval();
        mlm?.eval();
        progress?.Invoke(new BaseModelLoadReport("ready", total, total, clock.Elapsed, Cached: false));
        return new BaseModel(folder, checkpoint.Config, tokenizer, encoder, checkpoint.WeightsSha256, checkpoint.WeightsPath, identity, device, precision, mlm)
        {
            _filesStamp = stamp,
        };
    }

    // A NaN or infinite weight turns every prediction into noise; say which tensor instead.
    private static void RefuseNonFinite(TransformerEncoder encoder, MaskedLanguageModelHead? mlm, string weightsPath)
    {
        using var scope = torch.NewDisposeScope();
        var named = encoder.named_parameters().Concat(mlm?.named_parameters().Select(p => ("mlm head " + p.name, p.parameter)) ?? []);
        foreach (var (name, parameter) in named)
        {
            if (!parameter.isfinite().all().item<bool>())
            {
                encoder.Dispose();
                mlm?.Dispose();
                throw new InvalidDataException($"{weightsPath}: tensor '{name}' holds NaN or infinite values.");
            }
        }
    }
}
