using System.Diagnostics;
using System.Text.Json;

namespace Microsoft.ML.PTuning.Benchmarks;

/// <summary>
/// Receives the trainer's progress synchronously (unlike <see cref="Progress{T}"/>, which posts to the thread pool and
/// could report after <c>Fit</c> returned), keeps the validation metric of every epoch and prints progress.
/// </summary>
/// <remarks>
/// With a journal path, each finished epoch is also written to that file with the wall and CPU time spent so far, and a
/// recorder made over an existing journal starts from it: a run resumed from its training checkpoint in a new process
/// then reports every epoch and the time of every process, not only the last one's. Time a process spent after its last
/// finished epoch is not counted (the resumed run redoes part of it).
/// </remarks>
internal sealed class EpochRecorder : IProgress<PrefixTuningProgress>
{
    private readonly string _label;
    private readonly string? _journalPath;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly TimeSpan _cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
    private readonly SortedDictionary<int, EpochEntry> _epochs = new();

    public EpochRecorder(string label, string? journalPath = null)
    {
        _label = label;
        _journalPath = journalPath;
        if (journalPath != null && File.Exists(journalPath))
        {
            var journal = JsonSerializer.Deserialize<Journal>(File.ReadAllText(journalPath))
                ?? throw new InvalidDataException($"The epoch journal '{journalPath}' is empty.");
            foreach (var entry in journal.Epochs)
                _epochs[entry.Epoch] = entry;
            (PriorWallSeconds, PriorCpuSeconds) = (journal.WallSeconds, journal.CpuSeconds);
            Log.Line($"    {label}: resuming; {_epochs.Count} epochs and {PriorWallSeconds:F0} s wall from earlier processes ({journalPath}).");
        }
    }

    /// <summary>Wall seconds earlier processes spent on this run, up to their last finished epoch (0 without a journal).</summary>
    public double PriorWallSeconds { get; }

    /// <summary>CPU seconds earlier processes spent on this run, up to their last finished epoch.</summary>
    public double PriorCpuSeconds { get; }

    /// <summary>Validation metric after each epoch, in order.</summary>
    public IReadOnlyList<double> ValidationMetrics => _epochs.Values.Where(e => e.Validation is not null).Select(e => e.Validation!.Value).ToList();

    /// <summary>Examples per second of each finished epoch, by the trainer's clock (its training steps and validation).</summary>
    public IReadOnlyList<double> EpochExamplesPerSecond => _epochs.Values.Select(e => e.ExamplesPerSecond).ToList();

    public void Report(PrefixTuningProgress value)
    {
        if (value.Stage != PrefixTuningProgress.ProgressStage.Training)
        {
            Log.Progress($"    {_label}: {value}");
        }
        else if (value.EndOfEpoch)
        {
            _epochs[value.Epoch] = new EpochEntry(value.Epoch, value.ValidationMetric, value.ExamplesPerSecond);
            WriteJournal();
            Log.Line($"    {_label}: {value} [{_clock.Elapsed.TotalSeconds:F0} s]");
        }
        else
        {
            Log.Progress($"    {_label}: epoch {value.Epoch}/{value.MaxEpochs} step {value.Step}/{value.TotalSteps} loss {value.Loss:F3} ({value.ExamplesPerSecond:F0} ex/s)");
        }
    }

    private void WriteJournal()
    {
        if (_journalPath == null)
            return;
        double cpu = PriorCpuSeconds + (Process.GetCurrentProcess().TotalProcessorTime - _cpuAtStart).TotalSeconds;
        var journal = new Journal(_epochs.Values.ToList(), PriorWallSeconds + _clock.Elapsed.TotalSeconds, cpu);
        Directory.CreateDirectory(Path.GetDirectoryName(_journalPath)!);
        string temporary = _journalPath + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(journal));
        File.Move(temporary, _journalPath, overwrite: true);
    }

    private sealed record EpochEntry(int Epoch, double? Validation, double ExamplesPerSecond);

    private sealed record Journal(List<EpochEntry> Epochs, double WallSeconds, double CpuSeconds);
}

/// <summary>Console output with a clock; progress lines overwrite each other on a terminal and are kept when redirected.</summary>
internal static class Log
{
    private static readonly Stopwatch Clock = Stopwatch.StartNew();
    private static bool _openProgress;

    public static void Line(string text)
    {
        lock (Clock)
        {
            if (_openProgress)
                Console.WriteLine();
            _openProgress = false;
            Console.WriteLine($"[{Clock.Elapsed:hh\\:mm\\:ss}] {text}");
        }
    }

    public static void Progress(string text)
    {
        lock (Clock)
        {
            if (Console.IsOutputRedirected)
            {
                Console.WriteLine($"[{Clock.Elapsed:hh\\:mm\\:ss}] {text}");
                return;
            }
            Console.Write($"\r[{Clock.Elapsed:hh\\:mm\\:ss}] {text}".PadRight(Math.Max(1, Console.WindowWidth - 1)));
            _openProgress = true;
        }
    }
}
