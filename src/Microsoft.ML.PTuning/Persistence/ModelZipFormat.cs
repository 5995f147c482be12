using System.Security.Cryptography;
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

    /// <summary>The stream of the trained tensors.</summary>
    public const string AdapterStream = "Adapter.safetensors";

    // *** Binary format *** (version 0x00010003; 0x00010002 is read too: its header ends after the prefix depth, and it pooled with Cls)
    // int: header byte count H (1 to ModelZipHeader.MaxBytes)
    // H bytes: the header (ModelZipHeader), all lengths and strings as BinaryWriter writes them (UTF-8):
    //   int: task kind (0 = sequence classification, 1 = token classification; TaskKind)
    //   int: tuning method (TuningMethod value)
    //   int: prefix length (0 for methods without one)
    //   int: max tokens per sequence, special tokens included
    //   int: class count
    //   int: class-name count N (0 = the label had no key values); N strings
    //   string: sentence (1) column; string: sentence 2 column or ""; string: label column; string: prediction column;
    //   string: score column or ""
    //   string: base model folder as saved (absolute path)
    //   bool: base model embedded
    //   int: base file count M; M × { string: name; long: byte length; string: SHA-256 (64 lower-case hex digits) }:
    //     the base model's identity, config.json first, then its weight file (a sharded base: its index, then each
    //     shard the index names), then the tokenizer files it read (names only from ModelZipHeader.AllowedBaseFileNames,
    //     or plain shard names beside an index). If embedded, file <name> is in stream "Base/<name>".
    //   long: byte length of stream "Adapter.safetensors"; string: its SHA-256
    //   int: compute precision asked for at training (ComputePrecision; Auto is resolved again by the loading machine)
    //   int: prefix depth, the top layers the prefix covers (0 = every layer; PrefixTuningOptions.PrefixDepth)
    //   string: prompt template with {prompt} resolved to {prompt:N}, or "" (HandcraftedPrompt and PTuningV1 only)
    //   int: label-word class count W (the class count for those methods, else 0); W × { int: words n ≥ 1; n strings }
    //   int: pooling of the sequence-classification head (PoolingMode: 1 = Cls, 2 = Mean; 1 for token classification)
    // 32 bytes: SHA-256 of the H header bytes
    // stream "Adapter.safetensors": the trained tensors (prefix folded flat, head; full fine-tuning: the backbone too;
    //   P-Tuning v1: its prompt vectors folded flat; the handcrafted prompt: none)
    // A loader checks the header's digest before reading a field, reads every stream with at most its declared length
    // plus one byte, and checks each stream's and each base file's SHA-256 before using it.
    private static VersionInfo GetVersionInfo() => new VersionInfo(
        modelSignature: "PTUNEPFX",
        //verWrittenCur: 0x00010001, // Initial
        //verWrittenCur: 0x00010002, // SHA-256 of the header, the adapter and every base file; base identity covers config and tokenizer; compute precision; prefix depth
        verWrittenCur: ModelZipHeader.PromptAndPoolingVersion, // 0x00010003: prompt template and label words (HandcraftedPrompt, PTuningV1); pooling (Cls or Mean); base files may be a sharded checkpoint
        verReadableCur: ModelZipHeader.PromptAndPoolingVersion,
        verWeCanReadBack: 0x00010002,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(ModelZipFormat).Assembly.FullName);

    public static void Save(TrainedTask task, ModelSaveContext ctx)
    {
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        var engine = task.Engine;
        var files = engine.Base.IdentityFiles;
        if (task.EmbedBaseModel)
            EmbeddedBaseModel.Save(ctx, engine.Base.Folder, files);

        long adapterLength = 0;
        string adapterSha = "";
        ctx.SaveBinaryStream(AdapterStream, w =>
        {
            using var scope = NewDisposeScope();
            var tensors = engine.Model.AdapterStateDict().ToDictionary(p => p.Key, p => p.Value.detach().cpu());
            using var target = new DigestingWriteStream(w.BaseStream);
            Safetensors.SaveStateDict(target, tensors, leaveOpen: true);
            (adapterLength, adapterSha) = (target.BytesWritten, target.Sha256());
        });

        var header = new ModelZipHeader(task.Spec.Kind, task.Spec.Method, task.Spec.PositionsUsed, engine.MaxTokens, engine.ClassCount,
            task.ClassNames, task.Columns, engine.Base.Folder, task.EmbedBaseModel, files, adapterLength, adapterSha)
        {
            Precision = task.Precision,
            PrefixDepth = task.Spec.PrefixDepth,
            Pooling = task.Spec.Pooling,
            PromptTemplate = task.Spec.PromptTemplate,
            LabelWords = task.Spec.LabelWords,
        };
        byte[] bytes = header.ToBytes();
        ctx.Writer.Write(bytes.Length);
        ctx.Writer.Write(bytes);
        ctx.Writer.Write(SHA256.HashData(bytes));
    }

    public static TrainedTask Load(IHostEnvironment env, ModelLoadContext ctx)
    {
        ctx.CheckAtModel();
        CheckVersion(ctx);
        var header = ReadHeader(ctx);
        var (kind, method, classCount) = (header.Kind, header.Method, header.ClassCount);

        // Every byte of the zip that is used is checked before the base model is touched.
        byte[] adapterBytes = ZipEntryReader.ReadAll(ctx, AdapterStream, header.AdapterLength, header.AdapterSha256);
        string folder = header.BaseEmbedded
            ? EmbeddedBaseModel.Extract(ctx, header.BaseFiles)
            : BaseModelLocator.Locate(header.BaseFolder, header.BaseFiles);
        var baseModel = LoadBase(env, folder, header);

        var adapter = ReadAdapter(new MemoryStream(adapterBytes, writable: false));
        if (header.PrefixDepth > baseModel.Config.NumHiddenLayers)
            throw Corrupt($"a prefix depth of {header.PrefixDepth} layers over a base of {baseModel.Config.NumHiddenLayers}");
        var spec = new TaskSpec(kind, classCount, method, header.PrefixLength, header.PrefixDepth, header.Pooling)
        {
            PromptTemplate = header.PromptTemplate,
            LabelWords = header.LabelWords,
        };
        PrefixTunedModel? model = null;
        try
        {
            RefuseNonFinite(adapter);
            model = TaskModels.CreateForLoading(baseModel, spec);
            model.LoadAdapterStateDict(adapter);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or KeyNotFoundException)
        {
            model?.Dispose();
            // The base is the recorded one (digests checked), so a method it cannot serve is the zip's inconsistency.
            if (spec.UsesMaskedLanguageModel && baseModel.MaskedLanguageModelHead is null)
                throw new FormatException($"{CorruptPrefix}{TaskModels.NoHeadMessage(baseModel, method)}", e);
            throw new FormatException($"The prefix-tuning model in this zip is corrupt: the stream '{AdapterStream}' does not fit a " +
                $"{method} model with {classCount} classes over base '{header.BaseFolder}': {e.Message}", e);
        }
        catch
        {
            model?.Dispose();
            throw;
        }
        finally
        {
            foreach (var tensor in adapter.Values)
                tensor.Dispose();
        }
        var engine = new InferenceEngine(baseModel, model, header.MaxTokens, classCount, TaskModels.TemplateOf(baseModel, spec));
        return TrainedTask.Freeze(engine, spec, header.Columns, header.ClassNames, header.BaseEmbedded, header.Precision);
    }

    // Our own check first, so that the message names the zip's format version and what to do about it.
    private static void CheckVersion(ModelLoadContext ctx)
    {
        var ours = GetVersionInfo();
        var found = ctx.Header;
        if (found.ModelSignature != ours.ModelSignature)
            throw Corrupt($"model signature 0x{found.ModelSignature:X16} is not this library's (0x{ours.ModelSignature:X16})");
        if (found.ModelVerReadable > found.ModelVerWritten)
            throw Corrupt($"format version 0x{found.ModelVerWritten:X8} claims to need a reader of version 0x{found.ModelVerReadable:X8}");
        if (found.ModelVerWritten < ours.VerWeCanReadBack)
        {
            throw new FormatException($"This prefix-tuning model zip has format version 0x{found.ModelVerWritten:X8}, older than this " +
                $"library reads (0x{ours.VerWeCanReadBack:X8} to 0x{ours.VerWrittenCur:X8}): that format records no digests, so its " +
                "content cannot be verified. Retrain the model with this version of Microsoft.ML.PTuning and save it again.");
        }
        if (found.ModelVerReadable > ours.VerWrittenCur || found.ModelVerWritten > ours.VerWrittenCur)
        {
            throw new FormatException($"This prefix-tuning model zip has format version 0x{found.ModelVerWritten:X8}, newer than this " +
                $"library reads (0x{ours.VerWeCanReadBack:X8} to 0x{ours.VerWrittenCur:X8}): update Microsoft.ML.PTuning to load it.");
        }
        try
        {
            ctx.CheckVersionInfo(ours);
        }
        catch (FormatException e)
        {
            throw new FormatException($"This prefix-tuning model zip (format version 0x{found.ModelVerWritten:X8}) cannot be read: {e.Message}", e);
        }
    }

    // The header block and its digest, checked before any field is read.
    private static ModelZipHeader ReadHeader(ModelLoadContext ctx)
    {
        var reader = ctx.Reader;
        long available = ctx.Header.CbModel - sizeof(int) - SHA256.HashSizeInBytes;
        try
        {
            int length = reader.ReadInt32();
            if (length < 1 || length > ModelZipHeader.MaxBytes || length > available)
                throw Corrupt($"header byte count {length}");
            byte[] bytes = reader.ReadBytes(length);
            byte[] digest = reader.ReadBytes(SHA256.HashSizeInBytes);
            if (bytes.Length != length || digest.Length != SHA256.HashSizeInBytes)
                throw Corrupt("the header ends early");
            if (!SHA256.HashData(bytes).AsSpan().SequenceEqual(digest))
                throw Corrupt("the header (stream 'Model.key') does not match its SHA-256");
            return ModelZipHeader.Parse(bytes, ctx.Header.ModelVerWritten);
        }
        catch (EndOfStreamException e)
        {
            throw new FormatException("The prefix-tuning model in this zip is corrupt: its header ends early.", e);
        }
    }

    // The base model the header names, loaded and checked to be made of exactly the recorded files.
    private static BaseModel LoadBase(IHostEnvironment env, string folder, ModelZipHeader header)
    {
        BaseModel baseModel;
        try
        {
            baseModel = BaseModel.Load(folder, DeviceSelection.Resolve(null, env), log: null, header.Precision);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException)
        {
            throw header.BaseEmbedded
                ? new FormatException($"The prefix-tuning model in this zip is corrupt: its embedded base model cannot be loaded ({e.Message}).", e)
                : new InvalidOperationException($"The base model folder '{folder}' matches the zip's digests but cannot be loaded: {e.Message}", e);
        }
        string? difference = BaseModelLocator.Difference(header.BaseFiles, baseModel.IdentityFiles);
        if (difference != null)
        {
            throw header.BaseEmbedded
                ? Corrupt($"the embedded base model is not the one its header records: {difference}")
                : BaseModelLocator.Mismatch(header.BaseFolder, header.Weights, $"'{folder}' changed while loading: {difference}");
        }
        return baseModel;
    }

    // A NaN or infinite trained value would make every prediction meaningless; refuse the model, naming the tensor.
    private static void RefuseNonFinite(Dictionary<string, Tensor> adapter)
    {
        using var scope = NewDisposeScope();
        foreach (var (name, tensor) in adapter)
        {
            if (tensor.is_floating_point() && !tensor.isfinite().all().item<bool>())
                throw Corrupt($"the tensor '{name}' of the stream '{AdapterStream}' holds NaN or infinite values");
        }
    }

    /// <summary>Reads the trained tensors; anything unreadable is reported as a corrupt stream, naming it.</summary>
    private static Dictionary<string, Tensor> ReadAdapter(Stream stream)
    {
        try
        {
            return Checkpoints.SafeTensorsReader.Read(stream, AdapterStream);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new FormatException($"The prefix-tuning model in this zip is corrupt: the stream '{AdapterStream}' is not a readable safetensors file ({e.Message}).", e);
        }
    }

    private const string CorruptPrefix = "The prefix-tuning model in this zip is corrupt or from an unsupported version: ";

    internal static FormatException Corrupt(string what) => new FormatException($"{CorruptPrefix}{what}.");

    /// <summary>Whether <paramref name="e"/> is one of <see cref="Corrupt"/>'s.</summary>
    internal static bool IsCorruptError(FormatException e) => e.Message.StartsWith(CorruptPrefix, StringComparison.Ordinal);
}
