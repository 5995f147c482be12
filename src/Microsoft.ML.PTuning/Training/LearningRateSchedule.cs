namespace Microsoft.ML.PTuning.Training;

/// <summary>
/// Linear warmup from 0 to the peak rate, then linear decay to 0 at the last step (Hugging Face's "linear" schedule),
/// as a factor of each parameter group's peak rate.
/// </summary>
internal sealed class LearningRateSchedule
{
    private readonly int _warmupSteps;
    private readonly int _totalSteps;

    public LearningRateSchedule(int totalSteps, double warmupRatio)
    {
        _totalSteps = Math.Max(1, totalSteps);
        _warmupSteps = (int)Math.Ceiling(_totalSteps * warmupRatio);
    }

    /// <summary>The fraction of the peak rate for 0-based optimizer step <paramref name="step"/>.</summary>
    public double Factor(int step)
    {
        if (step < _warmupSteps)
            return (double)(step + 1) / _warmupSteps;
        double remaining = _totalSteps - step;
        return Math.Max(0.0, remaining / Math.Max(1, _totalSteps - _warmupSteps));
    }
}
