namespace Microsoft.ML.PTuning;

/// <summary>Why a <see cref="PrefixTuningTrial"/> ended.</summary>
public enum TrialStatus
{
    /// <summary>The trial never trained an epoch: the time budget ran out before its turn.</summary>
    NotRun,

    /// <summary>The trial trained all <c>MaxEpochs</c> epochs.</summary>
    Completed,

    /// <summary>Early stopping ended the trial before <c>MaxEpochs</c>: the validation metric stopped improving.</summary>
    EarlyStopping,

    /// <summary>
    /// Successive halving dropped the trial after a rung; <see cref="PrefixTuningTrial.EpochsRun"/> is the epoch it was
    /// dropped at.
    /// </summary>
    Halved,

    /// <summary>The sweep's time budget ran out while the trial could still train.</summary>
    TimeBudget,
}
