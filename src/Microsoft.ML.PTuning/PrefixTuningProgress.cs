namespace Microsoft.ML.PTuning;

/// <summary>A progress report from training.</summary>
public sealed record PrefixTuningProgress
{
    /// <summary>1-based epoch.</summary>
    public int Epoch { get; init; }

    /// <summary>Total epochs planned (early stopping may end sooner).</summary>
    public int MaxEpochs { get; init; }

    /// <summary>Optimizer steps done so far, over all epochs.</summary>
    public int Step { get; init; }

    /// <summary>Optimizer steps planned over all epochs.</summary>
    public int TotalSteps { get; init; }

    /// <summary>Mean training loss since the previous report.</summary>
    public double Loss { get; init; }

    /// <summary>The validation metric at the end of an epoch (accuracy or entity F1), null within an epoch or without validation data.</summary>
    public double? ValidationMetric { get; init; }

    /// <summary>Training examples processed per second since the previous report.</summary>
    public double ExamplesPerSecond { get; init; }

    /// <summary>True for the report made at the end of an epoch.</summary>
    public bool EndOfEpoch { get; init; }

    /// <inheritdoc/>
    public override string ToString() =>
        $"epoch {Epoch}/{MaxEpochs} step {Step}/{TotalSteps} loss {Loss:F4}" +
        (ValidationMetric is double m ? $" validation {m:F4}" : "") + $" ({ExamplesPerSecond:F1} examples/s)";
}
