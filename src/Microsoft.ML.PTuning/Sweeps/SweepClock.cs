namespace Microsoft.ML.PTuning.Sweeps;

/// <summary>Time since a sweep started, read from a <see cref="System.TimeProvider"/> so tests can drive the budget.</summary>
internal sealed class SweepClock
{
    private readonly TimeProvider _time;
    private readonly long _start;

    public SweepClock(TimeProvider time)
    {
        _time = time;
        _start = time.GetTimestamp();
    }

    /// <summary>Time since the sweep started.</summary>
    public TimeSpan Elapsed => _time.GetElapsedTime(_start);
}
