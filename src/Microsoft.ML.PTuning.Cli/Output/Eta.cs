using System.Globalization;

namespace Microsoft.ML.PTuning.Cli.Output;

/// <summary>
/// Time left from work counts: the rate of the work done since the first report (so a base model's load before the
/// first step does not slow the estimate), or since the start while there is only one report.
/// </summary>
internal sealed class Eta
{
    private readonly TimeProvider _clock;
    private readonly long _start;
    private long? _firstAt;
    private double _firstDone;

    public Eta(TimeProvider? clock = null)
    {
        _clock = clock ?? TimeProvider.System;
        _start = _clock.GetTimestamp();
    }

    /// <summary>The time since the start.</summary>
    public TimeSpan Elapsed => _clock.GetElapsedTime(_start);

    /// <summary>The estimated time left with <paramref name="done"/> of <paramref name="total"/> units done; null before any.</summary>
    public TimeSpan? Remaining(double done, double total)
    {
        long now = _clock.GetTimestamp();
        if (_firstAt is null)
        {
            _firstAt = now;
            _firstDone = done;
        }
        if (done <= 0 || total <= 0)
            return null;
        if (done >= total)
            return TimeSpan.Zero;
        double sinceFirst = _clock.GetElapsedTime(_firstAt.Value, now).TotalSeconds;
        double seconds = done > _firstDone && sinceFirst > 0
            ? sinceFirst / (done - _firstDone) * (total - done)
            : _clock.GetElapsedTime(_start, now).TotalSeconds / done * (total - done);
        return TimeSpan.FromSeconds(Math.Round(seconds));
    }

    /// <summary>h:mm:ss, or "?" without an estimate.</summary>
    public static string Format(TimeSpan? time) =>
        time is TimeSpan t ? ((int)t.TotalHours).ToString(CultureInfo.InvariantCulture) + t.ToString(@"\:mm\:ss", CultureInfo.InvariantCulture) : "?";
}
