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
            writer.Write((int)Pooling);
        }
        return memory.ToArray();
    }

    /// <param name="bytes">The header block.</param>
    /// <param name="hasPooling">Whether the block ends with the pooling field (format 0x00010003 on); older zips pooled with Cls.</param>
    /// <exception cref="FormatException">A field is out of range or malformed, or the bytes end early or run on.</exception>
    public static ModelZipHeader Parse(byte[] bytes, bool hasPooling = true)
    {
        using var reader = new BinaryReader(new MemoryStream(bytes, writable: false), Encoding.UTF8);
        try
        {
            var header = Read(reader, hasPooling);
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

    private static ModelZipHeader Read(BinaryReader reader, bool hasPooling)
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
        var pooling = hasPooling ? (PoolingMode)reader.ReadInt32() : PoolingMode.Cls;
        if (pooling is not (PoolingMode.Cls or PoolingMode.Mean) || (pooling == PoolingMode.Mean && kind != TaskKind.SequenceClassification))
            throw ModelZipFormat.Corrupt($"pooling {(int)pooling} for a {kind} task (Cls = 1 or Mean = 2 for sequence classification)");
        return new ModelZipHeader(kind, method, prefixLength, maxTokens, classCount, classNames,
            new TaskColumns(sentence1, sentence2, label, prediction, score), baseFolder, embedded, files, adapterLength, adapterSha)
        {
            Precision = precision,
            PrefixDepth = depth == 0 ? null : depth,
            Pooling = pooling,
        };
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
