using System.Text;
using Microsoft.ML.PTuning.Checkpoints;
using Microsoft.ML.PTuning.Runtime;
using Microsoft.ML.PTuning.Tokenization;

namespace Microsoft.ML.PTuning.Persistence;

/// <summary>
/// What the zip records about a trained task besides its tensors, as one block of bytes whose SHA-256 the zip stores
/// beside it (the layout is the <c>*** Binary format ***</c> block of <see cref="ModelZipFormat"/>). <see cref="Parse"/>
/// checks every field before anything else sees it: digests are 64 hex digits, base file names are the plain names a
/// base model is read from, counts and lengths are in range.
/// </summary>
internal sealed record ModelZipHeader(
    TaskKind Kind,
    TuningMethod Method,
    int PrefixLength,
    int MaxTokens,
    int ClassCount,
    string[]? ClassNames,
    TaskColumns Columns,
    string BaseFolder,
    bool BaseEmbedded,
    IReadOnlyList<BaseModelFile> BaseFiles,
    long AdapterLength,
    string AdapterSha256)
{
    /// <summary>The precision the task was trained with as asked for (Auto is resolved again where the model loads).</summary>
    public ComputePrecision Precision { get; init; }

    /// <summary>The top layers the prefix covers (<see cref="PrefixTuningOptions.PrefixDepth"/>), or null for every layer.</summary>
    public int? PrefixDepth { get; init; }

    /// <summary>How the sequence-classification head pools (resolved: Cls or Mean; Cls for token classification).</summary>
    public PoolingMode Pooling { get; init; } = PoolingMode.Cls;

    /// <summary>HandcraftedPrompt and PTuningV1: the resolved cloze template (<see cref="Modeling.TaskSpec.PromptTemplate"/>); else null.</summary>
    public string? PromptTemplate { get; init; }

    /// <summary>HandcraftedPrompt and PTuningV1: each class's label words, in class order; else null.</summary>
    public IReadOnlyList<string[]>? LabelWords { get; init; }

    /// <summary>The first format version whose header holds the prompt template, the label words and the pooling.</summary>
    public const uint PromptAndPoolingVersion = 0x00010003;

    /// <summary>The most bytes a header may hold (class names and column names included).</summary>
    public const int MaxBytes = 16 << 20;

    /// <summary>The most bytes a base file may declare (1 TiB): more than any encoder, and no overflow in the bounded reads.</summary>
    public const long MaxFileBytes = 1L << 40;

    /// <summary>
    /// The fixed names a base model file may have in the zip: config.json, the weight files (a sharded checkpoint's index
    /// among them) and every tokenizer file a supported model type reads. Besides these, only the shards of a sharded
    /// base, by plain names (<see cref="IsAllowedBaseFileName"/>). Nothing else of a base folder is stored, and nothing
    /// else is ever written on load.
    /// </summary>
    public static IReadOnlySet<string> AllowedBaseFileNames { get; } = HuggingFaceCheckpoint.WeightFileNames
        .Prepend(HuggingFaceCheckpoint.ConfigFileName)
        .Concat(EncoderTokenizer.FileNames(EncoderTokenizer.BertModelType))
        .Concat(EncoderTokenizer.FileNames(EncoderTokenizer.RobertaModelType))
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>Whether a base file may be named <paramref name="name"/>: a fixed name, or a plain shard name of a sharded base.</summary>
    public static bool IsAllowedBaseFileName(string name) => AllowedBaseFileNames.Contains(name) || ShardedCheckpointIndex.IsShardName(name);

    /// <summary>The base model's weight file among <see cref="BaseFiles"/> (a sharded base's index).</summary>
    public BaseModelFile Weights => BaseFiles.Single(f => HuggingFaceCheckpoint.WeightFileNames.Contains(f.Name));

    public byte[] ToBytes()
    {
        var memory = new MemoryStream();
        using (var writer = new BinaryWriter(memory, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write((int)Kind);
            writer.Write((int)Method);
            writer.Write(PrefixLength);
            writer.Write(MaxTokens);
            writer.Write(ClassCount);
            var names = ClassNames ?? Array.Empty<string>();
            writer.Write(names.Length);
            foreach (string name in names)
                writer.Write(name);
            writer.Write(Columns.Sentence1);
            writer.Write(Columns.Sentence2 ?? string.Empty);
            writer.Write(Columns.Label);
            writer.Write(Columns.Prediction);
            writer.Write(Columns.Score ?? string.Empty);
            writer.Write(BaseFolder);
            writer.Write(BaseEmbedded);
            writer.Write(BaseFiles.Count);
            foreach (var file in BaseFiles)
            {
                writer.Write(file.Name);
                writer.Write(file.Length);
                writer.Write(file.Sha256);
            }
            writer.Write(AdapterLength);
            writer.Write(AdapterSha256);
            writer.Write((int)Precision);
            writer.Write(PrefixDepth ?? 0);
            writer.Write(PromptTemplate ?? string.Empty);
            writer.Write(LabelWords?.Count ?? 0);
            foreach (string[] words in LabelWords ?? [])
            {
                writer.Write(words.Length);
                foreach (string word in words)
                    writer.Write(word);
            }
            writer.Write((int)Pooling);
        }
        return memory.ToArray();
    }

    /// <param name="bytes">The header block.</param>
    /// <param name="version">The zip's format version: before <see cref="PromptAndPoolingVersion"/> the header ends at the prefix depth (and the model pooled with Cls).</param>
    /// <exception cref="FormatException">A field is out of range or malformed, or the bytes end early or run on.</exception>
    public static ModelZipHeader Parse(byte[] bytes, uint version = PromptAndPoolingVersion)
    {
        using var reader = new BinaryReader(new MemoryStream(bytes, writable: false), Encoding.UTF8);
        try
        {
            var header = Read(reader, version >= PromptAndPoolingVersion);
            if (reader.BaseStream.Position != bytes.Length)
                throw ModelZipFormat.Corrupt($"the header holds {bytes.Length - reader.BaseStream.Position} bytes after its last field");
            return header;
        }
        catch (EndOfStreamException e)
        {
            throw new FormatException("The prefix-tuning model in this zip is corrupt: its header ends early.", e);
        }
        catch (FormatException e) when (!ModelZipFormat.IsCorruptError(e))
        {
            // BinaryReader's own (a string length that is not a 7-bit encoded integer).
            throw ModelZipFormat.Corrupt($"the header cannot be read ({e.Message})");
        }
    }

    private static ModelZipHeader Read(BinaryReader reader, bool promptAndPooling)
    {
        var kind = (TaskKind)reader.ReadInt32();
        if (kind is not (TaskKind.SequenceClassification or TaskKind.TokenClassification))
            throw ModelZipFormat.Corrupt($"unknown task kind {(int)kind}");
        var method = (TuningMethod)reader.ReadInt32();
        if (!Enum.IsDefined(method))
            throw ModelZipFormat.Corrupt($"unknown tuning method {(int)method}");
        int prefixLength = reader.ReadInt32();
        int maxTokens = reader.ReadInt32();
        int classCount = reader.ReadInt32();
        int nameCount = reader.ReadInt32();
        if (prefixLength < 0 || maxTokens < 1 || classCount < 1 || classCount > MaxBytes || nameCount < 0 || (nameCount != 0 && nameCount != classCount))
            throw ModelZipFormat.Corrupt($"inconsistent header (prefix {prefixLength}, max tokens {maxTokens}, classes {classCount}, names {nameCount})");
        string[]? classNames = nameCount == 0 ? null : Enumerable.Range(0, nameCount).Select(_ => reader.ReadString()).ToArray();
        string sentence1 = ColumnName(reader, "sentence 1", required: true)!;
        string? sentence2 = ColumnName(reader, "sentence 2", required: false);
        string label = ColumnName(reader, "label", required: true)!;
        string prediction = ColumnName(reader, "prediction", required: true)!;
        string? score = ColumnName(reader, "score", required: false);
        string baseFolder = reader.ReadString();
        if (baseFolder.Length == 0 || baseFolder.Contains('\0') || !Path.IsPathFullyQualified(baseFolder))
            throw ModelZipFormat.Corrupt("the recorded base model folder is not an absolute path");
        bool embedded = reader.ReadBoolean();
        var files = ReadBaseFiles(reader);
        long adapterLength = reader.ReadInt64();
        if (adapterLength < 1)
            throw ModelZipFormat.Corrupt($"the adapter's byte length {adapterLength}");
        string adapterSha = Sha256(reader, ModelZipFormat.AdapterStream);
        var precision = (ComputePrecision)reader.ReadInt32();
        if (!Enum.IsDefined(precision))
            throw ModelZipFormat.Corrupt($"unknown compute precision {(int)precision}");
        int depth = reader.ReadInt32();
        if (depth < 0 || (depth > 0 && method != TuningMethod.PrefixTuning))
            throw ModelZipFormat.Corrupt($"a prefix depth of {depth} for method {method}");
        var (template, labelWords) = promptAndPooling ? ReadPrompt(reader, method, classCount) : (null, null);
        if (!promptAndPooling && method is TuningMethod.HandcraftedPrompt or TuningMethod.PTuningV1)
            throw ModelZipFormat.Corrupt($"method {method} in a format version without prompt templates");
        var pooling = promptAndPooling ? (PoolingMode)reader.ReadInt32() : PoolingMode.Cls;
        if (pooling is not (PoolingMode.Cls or PoolingMode.Mean) || (pooling == PoolingMode.Mean && (kind != TaskKind.SequenceClassification || template != null)))
            throw ModelZipFormat.Corrupt($"pooling {(int)pooling} for a {kind} task of method {method} (Cls = 1, or Mean = 2 for sequence classification with a classification head)");
        return new ModelZipHeader(kind, method, prefixLength, maxTokens, classCount, classNames,
            new TaskColumns(sentence1, sentence2, label, prediction, score), baseFolder, embedded, files, adapterLength, adapterSha)
        {
            Precision = precision,
            PrefixDepth = depth == 0 ? null : depth,
            Pooling = pooling,
            PromptTemplate = template,
            LabelWords = labelWords,
        };
    }

    // The masked-LM methods record their template and one or more words per class; every other method records neither.
    private static (string? Template, string[][]? LabelWords) ReadPrompt(BinaryReader reader, TuningMethod method, int classCount)
    {
        bool prompted = method is TuningMethod.HandcraftedPrompt or TuningMethod.PTuningV1;
        string template = reader.ReadString();
        int classes = reader.ReadInt32();
        if (prompted ? template.Length == 0 || classes != classCount : template.Length != 0 || classes != 0)
            throw ModelZipFormat.Corrupt($"a prompt template of {template.Length} characters and label words for {classes} classes for method {method} with {classCount} classes");
        if (!prompted)
            return (null, null);
        var labelWords = new string[classes][];
        for (int c = 0; c < classes; c++)
        {
            int count = reader.ReadInt32();
            if (count < 1 || count > MaxBytes)
                throw ModelZipFormat.Corrupt($"class {c} has {count} label words");
            labelWords[c] = Enumerable.Range(0, count).Select(_ => reader.ReadString()).ToArray();
            if (labelWords[c].Any(string.IsNullOrWhiteSpace))
                throw ModelZipFormat.Corrupt($"class {c} has an empty label word");
        }
        return (template, labelWords);
    }

    private static string? ColumnName(BinaryReader reader, string what, bool required)
    {
        string name = reader.ReadString();
        if (name.Length == 0 && required)
            throw ModelZipFormat.Corrupt($"the {what} column name is empty");
        return name.Length == 0 ? null : name;
    }

    private static BaseModelFile[] ReadBaseFiles(BinaryReader reader)
    {
        int count = reader.ReadInt32();
        if (count < 2 || count > AllowedBaseFileNames.Count + ShardedCheckpointIndex.MaxShards)
            throw ModelZipFormat.Corrupt($"base model file count {count}");
        var files = new BaseModelFile[count];
        for (int i = 0; i < count; i++)
        {
            string name = reader.ReadString();
            // Checked before anything can use it: a name from the zip is only ever one of the allowed plain names.
            if (!IsAllowedBaseFileName(name))
            {
                throw ModelZipFormat.Corrupt($"base model file {i} is named '{Printable(name)}', not one of {string.Join(", ", AllowedBaseFileNames)} " +
                    "nor a plain shard name (letters, digits, '.', '-', '_', ending in .safetensors or .bin)");
            }
            if (files.Take(i).Any(f => f.Name == name))
                throw ModelZipFormat.Corrupt($"the base model file '{name}' is listed twice");
            long length = reader.ReadInt64();
            if (length < 0 || length > MaxFileBytes)
                throw ModelZipFormat.Corrupt($"the base model file '{name}' has byte length {length}");
            files[i] = new BaseModelFile(name, length, Sha256(reader, name));
        }
        if (files[0].Name != HuggingFaceCheckpoint.ConfigFileName)
            throw ModelZipFormat.Corrupt($"the base model files do not start with {HuggingFaceCheckpoint.ConfigFileName}");
        if (files.Count(f => HuggingFaceCheckpoint.WeightFileNames.Contains(f.Name)) != 1)
            throw ModelZipFormat.Corrupt($"the base model files name {files.Count(f => HuggingFaceCheckpoint.WeightFileNames.Contains(f.Name))} weight files, not one");
        bool sharded = files.Any(f => ShardedCheckpointIndex.IsIndexName(f.Name));
        if (!sharded && files.FirstOrDefault(f => ShardedCheckpointIndex.IsShardName(f.Name)) is { } stray)
            throw ModelZipFormat.Corrupt($"the base model file '{Printable(stray.Name)}' is a shard, but the base has no shard index");
        return files;
    }

    /// <summary>A SHA-256 as the zip records it: exactly 64 hex digits, either case; returned lower-case.</summary>
    private static string Sha256(BinaryReader reader, string of)
    {
        string value = reader.ReadString();
        if (value.Length != 64 || !value.All(char.IsAsciiHexDigit))
            throw ModelZipFormat.Corrupt($"the SHA-256 recorded for '{of}' is not 64 hex digits ('{Printable(value)}')");
        return value.ToLowerInvariant();
    }

    // A crafted value goes into a message only as printable ASCII, and short.
    private static string Printable(string value)
    {
        string shown = new(value.Take(80).Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());
        return value.Length > 80 ? shown + "…" : shown;
    }
}
