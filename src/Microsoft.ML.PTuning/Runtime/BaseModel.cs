using System.Collections.Concurrent;
using Microsoft.ML.PTuning.Checkpoints;
using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Tokenization;
using TorchSharp;

namespace Microsoft.ML.PTuning.Runtime;

/// <summary>
/// A loaded, frozen backbone: its config, tokenizer and encoder weights, identified by the SHA-256 of its weight file.
/// Loaded at most once per folder, device and precision per process (<see cref="Load"/> caches), so a sweep's trials
/// and several loaded model zips share one copy. Full fine-tuning works on a clone, never on the shared instance.
/// In <see cref="ComputePrecision.BFloat16"/> the encoder's weights are held in bf16 (half the memory of fp32).
/// </summary>
internal sealed class BaseModel
{
    private static readonly ConcurrentDictionary<(string Folder, string Device, ComputePrecision Precision), Lazy<BaseModel>> Cache = new();
    private static readonly ConcurrentDictionary<string, int> LoadsPerFolder = new();
    private static int _loads;

    private BaseModel(string folder, EncoderConfig config, EncoderTokenizer tokenizer, TransformerEncoder encoder, string sha256, string weightsPath, torch.Device device, ComputePrecision precision)
    {
        Precision = precision;
        Folder = folder;
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
    public string WeightsSha256 { get; }
    public string WeightsPath { get; }
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
    /// <paramref name="precision"/> (Auto is resolved for the device first). A cached model whose weight file has changed
    /// since (size or write time) is read again, so it never stands for other weights.
    /// </summary>
    public static BaseModel Load(string folder, torch.Device device, Action<string>? log, ComputePrecision precision = ComputePrecision.Float32)
    {
        precision = PrecisionSelection.Resolve(precision, device);
        var key = (Path.GetFullPath(folder), device.ToString(), precision);
        while (true)
        {
            var lazy = Cache.GetOrAdd(key, k => new Lazy<BaseModel>(() => Read(k.Folder, device, k.Precision, log)));
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
            if (model.WeightsUnchanged())
                return model;
            // Models already built on the old instance keep it; new users get the folder's current weights.
            Cache.TryRemove(new KeyValuePair<(string, string, ComputePrecision), Lazy<BaseModel>>(key, lazy));
        }
    }

    private (long Length, DateTime WrittenUtc) _weightsStamp;

    private static (long, DateTime) Stamp(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.Length, info.LastWriteTimeUtc) : (-1, default);
    }

    private bool WeightsUnchanged() => Stamp(WeightsPath) == _weightsStamp;

    private static BaseModel Read(string folder, torch.Device device, ComputePrecision precision, Action<string>? log)
    {
        Interlocked.Increment(ref _loads);
        LoadsPerFolder.AddOrUpdate(folder, 1, (_, count) => count + 1);
        log?.Invoke($"Loading base model from '{folder}' ({precision}).");
        // Stamped before reading: a file replaced while it is read shows as changed at the next Load.
        var stamp = Stamp(HuggingFaceCheckpoint.FindWeightsFile(folder) ?? folder);
        using var checkpoint = HuggingFaceCheckpoint.Load(folder);
        var tokenizer = EncoderTokenizer.FromFolder(folder, checkpoint.Config.ModelType);
        var encoder = checkpoint.CreateEncoder(log);
        // Built and read in fp32 on the CPU, then converted and moved in one step.
        encoder.to(device, PrecisionSelection.ElementType(precision));
        foreach (var parameter in encoder.parameters())
            parameter.requires_grad = false;
        encoder.eval();
        return new BaseModel(folder, checkpoint.Config, tokenizer, encoder, checkpoint.WeightsSha256, checkpoint.WeightsPath, device, precision)
        {
            _weightsStamp = stamp,
        };
    }
}
