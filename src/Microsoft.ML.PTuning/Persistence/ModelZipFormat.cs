using Microsoft.ML.PTuning.Checkpoints;
using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.Runtime;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning;

/// <summary>How a <see cref="PrefixTuningTransformer"/> is written into and read from ML.NET's model zip.</summary>
internal static class ModelZipFormat
{
    private const string AdapterStream = "Adapter.safetensors";
    private const string BaseStreamPrefix = "Base/";

    // *** Binary format ***
    // int: task kind (0 = sequence classification, 1 = token classification; Modeling.TaskKind)
    // int: tuning method (TuningMethod value)
    // int: prefix length (0 for methods without one)
    // int: max tokens per sequence, special tokens included
    // int: class count
    // int: class-name count N (0 = the label had no key values); N strings
    // string: sentence (1) column; string: sentence 2 column or ""; string: label column; string: prediction column;
    // string: score column or ""
    // string: base model folder as saved (absolute path)
    // string: SHA-256 of the base model's weight file (lower-case hex)
    // bool: base model embedded
    // if embedded: int: file count M; M strings: file names; each file in stream "Base/<name>"
    // stream "Adapter.safetensors": the trained tensors (prefix folded flat, head; full fine-tuning: the backbone too)
    private static VersionInfo GetVersionInfo() => new VersionInfo(
        modelSignature: "PTUNEPFX",
        verWrittenCur: 0x00010001, // Initial
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: PrefixTuningTransformer.LoaderSignature,
        loaderAssemblyName: typeof(PrefixTuningTransformer).Assembly.FullName);

    public static void Save(PrefixTuningTransformer transformer, ModelSaveContext ctx)
    {
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        var engine = transformer.Engine;
        var writer = ctx.Writer;
        writer.Write((int)transformer.Kind);
        writer.Write((int)transformer.Method);
        writer.Write(transformer.PrefixLength);
        writer.Write(engine.MaxTokens);
        writer.Write(engine.ClassCount);
        var names = transformer.ClassNames ?? Array.Empty<string>();
        writer.Write(names.Count);
        foreach (string name in names)
            writer.Write(name);
        var columns = transformer.Columns;
        writer.Write(columns.Sentence1);
        writer.Write(columns.Sentence2 ?? string.Empty);
        writer.Write(columns.Label);
        writer.Write(columns.Prediction);
        writer.Write(columns.Score ?? string.Empty);
        writer.Write(engine.Base.Folder);
        writer.Write(engine.Base.WeightsSha256);
        writer.Write(transformer.EmbedBaseModel);
        if (transformer.EmbedBaseModel)
        {
            string[] files = Directory.GetFiles(engine.Base.Folder).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
            writer.Write(files.Length);
            foreach (string file in files)
            {
                writer.Write(file);
                ctx.SaveBinaryStream(BaseStreamPrefix + file, w =>
                {
                    using var source = File.OpenRead(Path.Combine(engine.Base.Folder, file));
                    source.CopyTo(w.BaseStream);
                });
            }
        }

        ctx.SaveBinaryStream(AdapterStream, w =>
        {
            using var scope = NewDisposeScope();
            var tensors = engine.Model.AdapterStateDict().ToDictionary(p => p.Key, p => p.Value.detach().cpu());
            Safetensors.SaveStateDict(w.BaseStream, tensors, leaveOpen: true);
        });
    }

    public static PrefixTuningTransformer Load(IHostEnvironment env, ModelLoadContext ctx)
    {
        ctx.CheckAtModel(GetVersionInfo());
        var reader = ctx.Reader;
        var kind = (TaskKind)reader.ReadInt32();
        if (kind is not (TaskKind.SequenceClassification or TaskKind.TokenClassification))
            throw Corrupt($"unknown task kind {(int)kind}");
        var method = (TuningMethod)reader.ReadInt32();
        if (!Enum.IsDefined(method))
            throw Corrupt($"unknown tuning method {(int)method}");
        int prefixLength = reader.ReadInt32();
        int maxTokens = reader.ReadInt32();
        int classCount = reader.ReadInt32();
        int nameCount = reader.ReadInt32();
        if (prefixLength < 0 || maxTokens < 1 || classCount < 1 || nameCount < 0 || (nameCount != 0 && nameCount != classCount))
            throw Corrupt($"inconsistent header (prefix {prefixLength}, max tokens {maxTokens}, classes {classCount}, names {nameCount})");
        string[]? classNames = nameCount == 0 ? null : Enumerable.Range(0, nameCount).Select(_ => reader.ReadString()).ToArray();
        string sentence1 = reader.ReadString();
        string sentence2 = reader.ReadString();
        string label = reader.ReadString();
        string prediction = reader.ReadString();
        string score = reader.ReadString();
        var columns = new TaskColumns(sentence1, sentence2.Length == 0 ? null : sentence2, label, prediction, score.Length == 0 ? null : score);
        string baseFolder = reader.ReadString();
        string baseSha = reader.ReadString();
        bool embedded = reader.ReadBoolean();

        string folder = embedded ? ExtractEmbeddedBase(ctx, reader, baseSha) : LocateBase(baseFolder, baseSha);
        var device = DeviceSelection.Resolve(null);
        var baseModel = BaseModel.Load(folder, device, log: null);
        if (!string.Equals(baseModel.WeightsSha256, baseSha, StringComparison.OrdinalIgnoreCase))
            throw BaseMismatch(baseFolder, baseSha, $"'{folder}' holds weights with SHA-256 {baseModel.WeightsSha256}");

        Dictionary<string, Tensor>? adapter = null;
        if (!ctx.TryLoadBinaryStream(AdapterStream, r => adapter = ReadAdapter(r.BaseStream)) || adapter == null)
            throw Corrupt($"the stream '{AdapterStream}' is missing");

        var spec = new TaskSpec(kind, classCount, method, prefixLength, PrefixProjection: false, PrefixHiddenSize: 0, Dropout: 0);
        var model = TaskBuilder.CreateModel(baseModel, spec);
        try
        {
            model.LoadAdapterStateDict(adapter);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or KeyNotFoundException)
        {
            model.Dispose();
            throw new FormatException($"The prefix-tuning model in this zip is corrupt: the stream '{AdapterStream}' does not fit a " +
                $"{method} model with {classCount} classes over base '{baseFolder}': {e.Message}", e);
        }
        finally
        {
            foreach (var tensor in adapter.Values)
                tensor.Dispose();
        }
        var engine = new TaskEngine(baseModel, model, maxTokens, classCount);
        var task = TaskBuilder.CreatePredictionTask(engine, spec, columns, classNames);
        return TaskBuilder.CreateTransformer(engine, task, spec, columns, classNames, embedded);
    }

    /// <summary>Reads the trained tensors; anything unreadable is reported as a corrupt stream, naming it.</summary>
    private static Dictionary<string, Tensor> ReadAdapter(Stream stream)
    {
        try
        {
            return Safetensors.LoadStateDict(stream, leaveOpen: true);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new FormatException($"The prefix-tuning model in this zip is corrupt: the stream '{AdapterStream}' is not a readable safetensors file ({e.Message}).", e);
        }
    }

    /// <summary>
    /// The recorded base folder if its weights match, else the first registered or environment folder whose weights do.
    /// </summary>
    private static string LocateBase(string recordedFolder, string sha)
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
        throw BaseMismatch(recordedFolder, sha, "searched " + string.Join(", ", tried));
    }

    private static Exception BaseMismatch(string recordedFolder, string sha, string detail) => new InvalidOperationException(
        $"This prefix-tuning model needs its base model: the folder saved as '{recordedFolder}' with weights SHA-256 {sha}. " +
        $"It was not found ({detail}). Put that base model back at its path, or point to a copy with " +
        $"PrefixTuningBaseModels.Register(folder) or the environment variable {PrefixTuningBaseModels.EnvironmentVariable} " +
        "before calling mlContext.Model.Load; or retrain with EmbedBaseModel = true for a self-contained zip.");

    /// <summary>Writes the embedded base files once per SHA into a cache folder under the temp directory.</summary>
    private static string ExtractEmbeddedBase(ModelLoadContext ctx, BinaryReader reader, string sha)
    {
        int count = reader.ReadInt32();
        if (count < 1 || count > 10_000)
            throw Corrupt($"embedded base model file count {count}");
        string[] files = Enumerable.Range(0, count).Select(_ => reader.ReadString()).ToArray();
        if (files.Any(f => f.Length == 0 || f != Path.GetFileName(f)))
            throw Corrupt("an embedded base model file name is not a plain file name");

        string folder = Path.Combine(Path.GetTempPath(), "ptuning-embedded-base", sha.ToLowerInvariant());
        string complete = Path.Combine(folder, ".complete");
        if (File.Exists(complete))
            return folder;
        string staging = folder + "." + Guid.NewGuid().ToString("N");
        Directory.CreateDirectory(staging);
        foreach (string file in files)
        {
            if (!ctx.TryLoadBinaryStream(BaseStreamPrefix + file, r =>
                {
                    using var target = File.Create(Path.Combine(staging, file));
                    r.BaseStream.CopyTo(target);
                }))
                throw Corrupt($"the embedded base model file '{file}' is missing");
        }
        File.WriteAllText(Path.Combine(staging, ".complete"), sha);
        try
        {
            Directory.Move(staging, folder);
        }
        catch (IOException) when (File.Exists(complete))
        {
            Directory.Delete(staging, recursive: true); // another process extracted it first
        }
        return folder;
    }

    private static FormatException Corrupt(string what) =>
        new FormatException($"The prefix-tuning model in this zip is corrupt or from an unsupported version: {what}.");
}
