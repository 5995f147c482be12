namespace Microsoft.ML.PTuning.Training;

/// <summary>Linear warmup from 0 to the peak rate, then linear decay to 0 at the last step (Hugging Face's "linear" schedule).</summary>
internal sealed class LearningRateSchedule
{
    private readonly double _peak;
    private readonly int _warmupSteps;
    private readonly int _totalSteps;

    public LearningRateSchedule(double peak, int totalSteps, double warmupRatio)
    {
        _peak = peak;
        _totalSteps = Math.Max(1, totalSteps);
        _warmupSteps = (int)Math.Ceiling(_totalSteps * warmupRatio);
    }

    /// <summary>The rate for 0-based optimizer step <paramref name="step"/>.</summary>
    public double At(int step)
    {
        if (step < _warmupSteps)
            return _peak * (step + 1) / _warmupSteps;
        double remaining = _totalSteps - step;
        return _peak * Math.Max(0.0, remaining / Math.Max(1, _totalSteps - _warmupSteps));
    }
}
