using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Training;

/// <summary>
/// A training run's checkpoint file in its folder: written atomically (a temp file beside it, flushed, then renamed
/// over the old one, so a crash leaves the previous checkpoint or the new one, never half of one), read back as
/// untrusted input (size bounded by what the run can need, a SHA-256 digest over the whole file, every count and length
/// checked before use). A checkpoint of another run (another fingerprint) is not used: it is logged and training starts
/// over, overwriting it at the first save. A damaged one is an error naming the file — never silently skipped, since it
/// may hold hours of work that the user can still recover or delete on purpose.
/// </summary>
internal sealed class TrainingCheckpoint
{
    /// <summary>The checkpoint's file name inside the folder.</summary>
    public const string FileName = "training-state.ptcheckpoint";

    // *** Binary format *** (little-endian; strings as BinaryWriter writes them: 7-bit length, UTF-8)
    //   bytes[8]  magic "PTCKPT\r\n"
    //   int32     format version (1)
    //   string    fingerprint (TrainingFingerprint: 64 hex digits)
    //   int32     step; int32 batches done of the epoch in progress; double their loss sum
    //   int32     epochs done; per epoch: int32 epoch, double mean loss, bool has metric, double metric, int64 duration ticks
    //   int32     best epoch; bool has best metric; double best metric; int32 epochs without improvement
    //   int32     generator state length; bytes
    //   int32     count; int64 AdamW step per trainable parameter
    //   int32     tensor count; per tensor: string name, int32 ScalarType, int32 rank, int64 dims[rank], bytes (contiguous, CPU)
    //   bytes[32] SHA-256 of every byte above
    private static readonly byte[] Magic = "PTCKPT\r\n"u8.ToArray();
    private const int FormatVersion = 1;
    private const int DigestLength = 32;
    private const int MaxRank = 8;

    private readonly TimeSpan _interval;
    private readonly Action<string>? _log;
    private long _lastSave = Stopwatch.GetTimestamp();

    /// <param name="folder">The folder the checkpoint lives in (created at the first save).</param>
    /// <param name="interval">The time between mid-epoch saves (epoch ends always save).</param>
    /// <param name="fingerprint">The run's <see cref="TrainingFingerprint"/>.</param>
    /// <param name="log">Receives what happened to the checkpoint.</param>
    public TrainingCheckpoint(string folder, TimeSpan interval, string fingerprint, Action<string>? log)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetFullPath(folder), FileName);
        _interval = interval;
        Fingerprint = fingerprint;
        _log = log;
    }

    /// <summary>The checkpoint file.</summary>
    public string Path { get; }

    /// <summary>The fingerprint of the run this checkpoint serves.</summary>
    public string Fingerprint { get; }

    /// <summary>True once <c>interval</c> has passed since the last save (or since this object was made).</summary>
    public bool IsDue => Stopwatch.GetElapsedTime(_lastSave) >= _interval;

    /// <summary>
    /// The saved state of this run, or null when there is none or it belongs to another run (logged). Creates the folder
    /// (so an unusable one fails now, not after the first epoch) and removes temp files left by a writer that was killed.
    /// </summary>
    /// <param name="maxBytes">The largest file this run can have written; a bigger one is refused unread.</param>
    /// <exception cref="InvalidDataException">The file is damaged or not a checkpoint (the message names it).</exception>
    /// <exception cref="IOException">The folder cannot be created (a file of that name, no permission): found before any training.</exception>
    public TrainerState? Load(long maxBytes)
    {
        string folder = System.IO.Path.GetDirectoryName(Path)!;
        if (File.Exists(folder))
            throw new IOException($"The checkpoint folder '{folder}' is a file; set CheckpointFolder to a folder (it is created if missing).");
        Directory.CreateDirectory(folder);
        RemoveStaleTempFiles();
        if (!File.Exists(Path))
            return null;
        using var file = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            if (file.Length < Magic.Length + DigestLength || file.Length > maxBytes)
                throw new InvalidDataException($"its size ({file.Length:N0} bytes) is outside what this run can write ({Magic.Length + DigestLength} to {maxBytes:N0} bytes)");
            CheckDigest(file);
            file.Position = 0;
            using var reader = new BinaryReader(file, Encoding.UTF8, leaveOpen: true);
            if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
                throw new InvalidDataException("it does not start with a training checkpoint's magic bytes");
            int version = reader.ReadInt32();
            if (version != FormatVersion)
                throw new InvalidDataException($"its format version is {version}; this library reads version {FormatVersion}");
            string fingerprint = reader.ReadString();
            if (fingerprint != Fingerprint)
            {
                _log?.Invoke($"The training checkpoint '{Path}' is of another run (other data, options or base model); training starts from the beginning and will overwrite it.");
                return null;
            }
            return Read(reader, end: file.Length - DigestLength);
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or ArgumentException or FormatException or OverflowException or DecoderFallbackException)
        {
            throw new InvalidDataException(
                $"The training checkpoint '{Path}' is damaged: {e.Message.TrimEnd('.')}. Delete it to train from the beginning, or set CheckpointFolder to another folder.", e);
        }
    }

    /// <summary>Writes <paramref name="state"/> atomically over the previous checkpoint.</summary>
    /// <param name="state">The trainer's state.</param>
    /// <param name="position">Where training is, for the log line.</param>
    public void Save(TrainerState state, string position)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        string temp = $"{Path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                using var sha = SHA256.Create();
                using (var hashing = new CryptoStream(file, sha, CryptoStreamMode.Write, leaveOpen: true))
                using (var writer = new BinaryWriter(hashing, Encoding.UTF8, leaveOpen: true))
                {
                    Write(writer, state);
                }
                file.Write(sha.Hash!);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, Path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        _lastSave = Stopwatch.GetTimestamp();
        _log?.Invoke($"Saved the training checkpoint '{Path}' ({position}).");
    }

    private void Write(BinaryWriter writer, TrainerState state)
    {
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(Fingerprint);
        writer.Write(state.Step);
        writer.Write(state.BatchesDone);
        writer.Write(state.EpochLossSum);
        writer.Write(state.History.Count);
        foreach (var record in state.History)
        {
            writer.Write(record.Epoch);
            writer.Write(record.MeanLoss);
            writer.Write(record.ValidationMetric.HasValue);
            writer.Write(record.ValidationMetric ?? 0);
            writer.Write(record.Duration.Ticks);
        }
        writer.Write(state.BestEpoch);
        writer.Write(state.BestMetric.HasValue);
        writer.Write(state.BestMetric ?? 0);
        writer.Write(state.EpochsWithoutImprovement);
        writer.Write(state.RandomState.Length);
        writer.Write(state.RandomState);
        writer.Write(state.OptimizerSteps.Length);
        foreach (long step in state.OptimizerSteps)
            writer.Write(step);
        writer.Write(state.Tensors.Count);
        foreach (var (name, tensor) in state.Tensors)
        {
            writer.Write(name);
            writer.Write((int)tensor.dtype);
            writer.Write(tensor.shape.Length);
            foreach (long dim in tensor.shape)
                writer.Write(dim);
            using var contiguous = tensor.contiguous();
            writer.Write(contiguous.bytes);
        }
    }

    private static TrainerState Read(BinaryReader reader, long end)
    {
        long remaining() => end - reader.BaseStream.Position;
        int Count(string what, long bytesEach)
        {
            int count = reader.ReadInt32();
            if (count < 0 || count * bytesEach > remaining())
                throw new InvalidDataException($"its {what} count ({count}) does not fit the file");
            return count;
        }

        int step = reader.ReadInt32();
        int batchesDone = reader.ReadInt32();
        double lossSum = reader.ReadDouble();
        var history = new EpochRecord[Count("epoch", 29)];
        for (int i = 0; i < history.Length; i++)
        {
            int epoch = reader.ReadInt32();
            double loss = reader.ReadDouble();
            bool hasMetric = reader.ReadBoolean();
            double metric = reader.ReadDouble();
            long ticks = reader.ReadInt64();
            if (ticks < 0)
                throw new InvalidDataException($"epoch {epoch} has a negative duration");
            history[i] = new EpochRecord(epoch, loss, hasMetric ? metric : null, TimeSpan.FromTicks(ticks));
        }
        int bestEpoch = reader.ReadInt32();
        bool hasBest = reader.ReadBoolean();
        double bestMetric = reader.ReadDouble();
        int withoutImprovement = reader.ReadInt32();
        byte[] random = reader.ReadBytes(Count("generator state byte", 1));
        var optimizerSteps = new long[Count("optimizer step", 8)];
        for (int i = 0; i < optimizerSteps.Length; i++)
            optimizerSteps[i] = reader.ReadInt64();

        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            int tensorCount = Count("tensor", 9);
            for (int i = 0; i < tensorCount; i++)
            {
                string name = reader.ReadString();
                var dtype = (ScalarType)reader.ReadInt32();
                int size = ElementSize(dtype, name);
                int rank = reader.ReadInt32();
                if (rank < 0 || rank > MaxRank)
                    throw new InvalidDataException($"tensor '{name}' has rank {rank} (at most {MaxRank})");
                var shape = new long[rank];
                long elements = 1;
                for (int d = 0; d < rank; d++)
                {
                    shape[d] = reader.ReadInt64();
                    if (shape[d] < 0 || shape[d] > remaining())
                        throw new InvalidDataException($"tensor '{name}' has dimension {shape[d]}");
                    elements = checked(elements * shape[d]);
                }
                long bytes = checked(elements * size);
                if (bytes > remaining() || bytes > Array.MaxLength)
                    throw new InvalidDataException($"tensor '{name}' needs {bytes:N0} bytes but {remaining():N0} are left");
                if (tensors.ContainsKey(name))
                    throw new InvalidDataException($"tensor '{name}' appears twice");
                byte[] data = reader.ReadBytes((int)bytes);
                var tensor = empty(shape, dtype);
                tensor.bytes = data;
                tensors[name] = tensor;
            }
            if (remaining() != 0)
                throw new InvalidDataException($"{remaining()} bytes follow the last tensor");
        }
        catch
        {
            foreach (var tensor in tensors.Values)
                tensor.Dispose();
            throw;
        }
        return new TrainerState(step, batchesDone, lossSum, history, bestEpoch, hasBest ? bestMetric : null, withoutImprovement, random,
            optimizerSteps, tensors);
    }

    private static int ElementSize(ScalarType dtype, string name) => dtype switch
    {
        ScalarType.Float32 => 4,
        ScalarType.Float64 => 8,
        ScalarType.Float16 or ScalarType.BFloat16 => 2,
        _ => throw new InvalidDataException($"tensor '{name}' has dtype {(int)dtype}, not a floating-point type this library trains"),
    };

    private static void CheckDigest(FileStream file)
    {
        file.Position = 0;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        for (long left = file.Length - DigestLength; left > 0;)
        {
            int read = file.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (read == 0)
                throw new EndOfStreamException("the file ended early");
            hash.AppendData(buffer, 0, read);
            left -= read;
        }
        byte[] expected = hash.GetHashAndReset();
        var stored = new byte[DigestLength];
        file.Position = file.Length - DigestLength;
        file.ReadExactly(stored);
        if (!CryptographicOperations.FixedTimeEquals(expected, stored))
            throw new InvalidDataException("its SHA-256 digest does not match its content (the file was changed or cut short)");
    }

    private void RemoveStaleTempFiles()
    {
        string? folder = System.IO.Path.GetDirectoryName(Path);
        if (folder == null || !Directory.Exists(folder))
            return;
        foreach (string temp in Directory.EnumerateFiles(folder, FileName + ".*.tmp"))
            TryDelete(temp);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp file is ignored by every reader.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
