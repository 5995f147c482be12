using System.Diagnostics;

namespace Microsoft.ML.PTuning.Benchmarks;

/// <summary>
/// Receives the trainer's progress synchronously (unlike <see cref="Progress{T}"/>, which posts to the thread pool and
/// could report after <c>Fit</c> returned), keeps the validation metric of every epoch and prints progress.
/// </summary>
internal sealed class EpochRecorder : IProgress<PrefixTuningProgress>
{
    private readonly string _label;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<double> _validation = new();
    private readonly List<double> _examplesPerSecond = new();

    public EpochRecorder(string label) => _label = label;

    /// <summary>Validation metric after each epoch, in order.</summary>
    public IReadOnlyList<double> ValidationMetrics => _validation;

    /// <summary>Examples per second of each finished epoch, by the trainer's clock (its training steps and validation).</summary>
    public IReadOnlyList<double> EpochExamplesPerSecond => _examplesPerSecond;

    public void Report(PrefixTuningProgress value)
    {
        if (value.Stage != PrefixTuningProgress.ProgressStage.Training)
        {
            Log.Progress($"    {_label}: {value}");
        }
        else if (value.EndOfEpoch)
        {
            if (value.ValidationMetric is double metric)
                _validation.Add(metric);
            _examplesPerSecond.Add(value.ExamplesPerSecond);
            Log.Line($"    {_label}: {value} [{_clock.Elapsed.TotalSeconds:F0} s]");
        }
        else
        {
            Log.Progress($"    {_label}: epoch {value.Epoch}/{value.MaxEpochs} step {value.Step}/{value.TotalSteps} loss {value.Loss:F3} ({value.ExamplesPerSecond:F0} ex/s)");
        }
    }
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
