using System.Text.Json;
using System.Text.Json.Serialization;

namespace Microsoft.ML.PTuning.Benchmarks;

/// <summary>
/// One training run of the converged quality profile: a method configuration at one learning rate and seed, trained to
/// early stopping with validation, then scored on test at its best validation epoch. Selection between runs uses
/// <see cref="ValidationMetric"/> only; <see cref="TestMetric"/> is recorded for every run so that a resumed suite never
/// has to retrain a run to report it.
/// </summary>
/// <remarks>
/// Pooling: what the head used (resolved; empty for token classification); PoolingAsked: the option as set (Auto or explicit).
/// TrainSeconds is the wall time of <c>Fit</c> (validation passes included); TrainCpuSeconds the process CPU time over
/// the same span, which other work on a shared machine disturbs far less. LoadAverage: the machine's 1-minute load when
/// the run ended. Cpu: the CPU model the run trained on (null in records written before it was recorded, 2026-12-07);
/// the project's machines have changed CPU between sessions, and CPU seconds only compare on one model.
/// </remarks>
internal sealed record TrialRecord(
    string Id, string Dataset, string Label, string Method, int PrefixLength, bool Projection, string Pooling, string PoolingAsked, double LearningRate,
    double? ProjectionLearningRate, int Seed, int MaxEpochs, int Patience, string MetricName,
    IReadOnlyList<double> ValidationCurve, double ValidationMetric, int BestEpoch, int EpochsRun,
    double TestMetric, double? TestMacroF1, double TrainSeconds, double TrainCpuSeconds, double PeakRssMb, double StartRssMb,
    long ZipBytes, long TrainableParameters, long TotalParameters, string LoadAverage, DateTime FinishedUtc, string? Cpu = null);

/// <summary>
/// The finished runs of a suite, one JSON object per line in <c>trials.jsonl</c>, appended and flushed as each run ends:
/// a suite stopped at any point restarts where it was, skipping every run already written (a run that was cut off part-way
/// resumes from its training checkpoint).
/// </summary>
internal sealed class TrialStore
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private readonly Dictionary<string, TrialRecord> _records = new(StringComparer.Ordinal);
    private readonly List<TrialRecord> _ordered = new();

    public TrialStore(string path)
    {
        Path = path;
        if (!File.Exists(path))
            return;
        int line = 0;
        foreach (string text in File.ReadLines(path))
        {
            line++;
            if (text.Length == 0)
                continue;
            TrialRecord? record;
            try
            {
                record = JsonSerializer.Deserialize<TrialRecord>(text, Json);
            }
            catch (JsonException e)
            {
                // A line cut off by a kill mid-write is the only expected damage: it is the last one, and its run reruns.
                Log.Line($"{path}:{line}: skipped an unreadable record ({e.Message}); its run will run again.");
                continue;
            }
            if (record != null && _records.TryAdd(record.Id, record))
                _ordered.Add(record);
        }
        // A last line cut off mid-write gets its line end, so the next record starts a line of its own.
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        if (file.Length > 0)
        {
            file.Seek(-1, SeekOrigin.End);
            if (file.ReadByte() != '\n')
                file.WriteByte((byte)'\n');
        }
    }

    public string Path { get; }

    /// <summary>Every finished run, in the order they finished.</summary>
    public IReadOnlyList<TrialRecord> Records => _ordered;

    public TrialRecord? Find(string id) => _records.GetValueOrDefault(id);

    public void Add(TrialRecord record)
    {
        if (!_records.TryAdd(record.Id, record))
            throw new InvalidOperationException($"Run '{record.Id}' is already recorded in {Path}.");
        _ordered.Add(record);
        using var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
        using var writer = new StreamWriter(stream);
        writer.WriteLine(JsonSerializer.Serialize(record, Json));
        writer.Flush();
        stream.Flush(flushToDisk: true);
    }
}
