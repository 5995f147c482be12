using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Runtime;
using Microsoft.ML.Runtime;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Persistence;

/// <summary>
/// How a trained task is written into and read from ML.NET's model zip (the transformer's <c>Save</c> and its
/// <c>LoadableClass</c> loader both come here).
/// </summary>
internal static class ModelZipFormat
{
    /// <summary>The loader signature the zip records and ML.NET's component catalog finds the transformer by.</summary>
    public const string LoaderSignature = "PrefixTuningTransform";

    private const string AdapterStream = "Adapter.safetensors";

    // *** Binary format ***
    // int: task kind (0 = sequence classification, 1 = token classification; TaskKind)
    // int: tuning method (TuningMethod value)
    // int: prefix length (0 for methods without one)
    // int: prefix depth, the top layers the prefix covers (0 = every layer) — since 0x00010002
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
        verWrittenCur: 0x00010002, // Prefix depth (partial depth)
        verReadableCur: 0x00010002,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(ModelZipFormat).Assembly.FullName);

    public static void Save(TrainedTask task, ModelSaveContext ctx)
    {
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        var engine = task.Engine;
        var writer = ctx.Writer;
        writer.Write((int)task.Spec.Kind);
        writer.Write((int)task.Spec.Method);
        writer.Write(task.Spec.PositionsUsed);
        writer.Write(task.Spec.PrefixDepth ?? 0);
        writer.Write(engine.MaxTokens);
        writer.Write(engine.ClassCount);
        var names = task.ClassNames ?? Array.Empty<string>();
        writer.Write(names.Length);
        foreach (string name in names)
            writer.Write(name);
        var columns = task.Columns;
        writer.Write(columns.Sentence1);
        writer.Write(columns.Sentence2 ?? string.Empty);
        writer.Write(columns.Label);
        writer.Write(columns.Prediction);
        writer.Write(columns.Score ?? string.Empty);
        writer.Write(engine.Base.Folder);
        writer.Write(engine.Base.WeightsSha256);
        writer.Write(task.EmbedBaseModel);
        if (task.EmbedBaseModel)
            EmbeddedBaseModel.Save(ctx, engine.Base.Folder);

        ctx.SaveBinaryStream(AdapterStream, w =>
        {
            using var scope = NewDisposeScope();
            var tensors = engine.Model.AdapterStateDict().ToDictionary(p => p.Key, p => p.Value.detach().cpu());
            Safetensors.SaveStateDict(w.BaseStream, tensors, leaveOpen: true);
        });
    }

    public static TrainedTask Load(IHostEnvironment env, ModelLoadContext ctx)
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
        int prefixDepth = ctx.Header.ModelVerWritten >= 0x00010002 ? reader.ReadInt32() : 0;
        int maxTokens = reader.ReadInt32();
        int classCount = reader.ReadInt32();
        int nameCount = reader.ReadInt32();
        if (prefixLength < 0 || prefixDepth < 0 || maxTokens < 1 || classCount < 1 || nameCount < 0 || (nameCount != 0 && nameCount != classCount))
            throw Corrupt($"inconsistent header (prefix {prefixLength}, depth {prefixDepth}, max tokens {maxTokens}, classes {classCount}, names {nameCount})");
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

        string folder = embedded ? EmbeddedBaseModel.Extract(ctx, reader, baseSha) : BaseModelLocator.Locate(baseFolder, baseSha);
        var device = DeviceSelection.Resolve(null);
        var baseModel = BaseModel.Load(folder, device, log: null);
        if (!string.Equals(baseModel.WeightsSha256, baseSha, StringComparison.OrdinalIgnoreCase))
            throw BaseModelLocator.Mismatch(baseFolder, baseSha, $"'{folder}' holds weights with SHA-256 {baseModel.WeightsSha256}");

        if (prefixDepth > baseModel.Config.NumHiddenLayers)
            throw Corrupt($"a prefix depth of {prefixDepth} layers over a base of {baseModel.Config.NumHiddenLayers}");

        Dictionary<string, Tensor>? adapter = null;
        if (!ctx.TryLoadBinaryStream(AdapterStream, r => adapter = ReadAdapter(r.BaseStream)) || adapter == null)
            throw Corrupt($"the stream '{AdapterStream}' is missing");

        var spec = new TaskSpec(kind, classCount, method, prefixLength, prefixDepth == 0 ? null : prefixDepth);
        var model = TaskModels.CreateForLoading(baseModel, spec);
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
        var engine = new InferenceEngine(baseModel, model, maxTokens, classCount);
        return TrainedTask.Freeze(engine, spec, columns, classNames, embedded);
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

    internal static FormatException Corrupt(string what) =>
        new FormatException($"The prefix-tuning model in this zip is corrupt or from an unsupported version: {what}.");
}
