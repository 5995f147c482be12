using Microsoft.ML.PTuning.Sweeps;

namespace Microsoft.ML.PTuning;

/// <summary>What a sweep found: every trial, the best one, and its trained model.</summary>
public sealed class PrefixTuningSweepResult
{
    internal PrefixTuningSweepResult(IReadOnlyList<PrefixTuningTrial> trials, PrefixTuningTrial bestTrial, PrefixTuningTransformer bestModel,
        TimeSpan elapsed, int baseModelLoads, SweepStrategy strategy)
    {
        Trials = trials;
        BestTrial = bestTrial;
        BestModel = bestModel;
        Elapsed = elapsed;
        BaseModelLoads = baseModelLoads;
        Strategy = strategy;
    }

    /// <summary>All trials, in the order they were defined.</summary>
    public IReadOnlyList<PrefixTuningTrial> Trials { get; }

    /// <summary>The trial with the best validation metric.</summary>
    public PrefixTuningTrial BestTrial { get; }

    /// <summary>
    /// The best trial's model at its best epoch; save it like any transformer, preferably with
    /// <see cref="ModelOperationsCatalogExtensions.SaveAtomically"/> (<c>mlContext.Model.SaveAtomically</c>), which never
    /// leaves a half-written zip in place of an earlier one.
    /// </summary>
    public PrefixTuningTransformer BestModel { get; }

    /// <summary>Wall time of the whole sweep.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>How many times a base model was read from disk during the sweep (0 or 1: trials share it).</summary>
    public int BaseModelLoads { get; }

    /// <summary>The strategy that ran.</summary>
    public SweepStrategy Strategy { get; }

    /// <summary>Epochs trained over all trials.</summary>
    public int TotalEpochs => Trials.Sum(t => t.EpochsRun);

    /// <summary>
    /// Writes <c>sweep-report.md</c> (a table of trials) and <c>metric-vs-prefix-length.svg</c> (best validation metric
    /// against prefix length, one line per learning rate) into <paramref name="folder"/>, creating it if needed.
    /// </summary>
    /// <returns>The path of the markdown report.</returns>
    public string SaveReport(string folder) => SweepReport.Save(this, folder);
}
