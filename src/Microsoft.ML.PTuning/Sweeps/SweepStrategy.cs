namespace Microsoft.ML.PTuning;

/// <summary>How <see cref="PrefixTuningSweeper"/> chooses and schedules trials.</summary>
public enum SweepStrategy
{
    /// <summary>Every combination of prefix length and learning rate, each trained to the end (or early stopping).</summary>
    Grid,

    /// <summary><see cref="PrefixTuningSweepOptions.MaxTrials"/> combinations drawn at random (seeded), each trained to the end.</summary>
    Random,

    /// <summary>
    /// Every combination starts; after each rung of epochs only the best 1/<see cref="PrefixTuningSweepOptions.ReductionFactor"/>
    /// continue, so weak prefix lengths stop early and the survivor trains for the full <c>MaxEpochs</c>.
    /// </summary>
    SuccessiveHalving,
}
