using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Training;

/// <summary>
/// The numbers the training loop needs, resolved from the options (learning rate defaults, seed). LearningRate is the
/// peak rate of everything trained except a reparameterized prefix, which trains at ProjectionLearningRate.
/// GroupByLength draws batches from length-sorted windows (<see cref="LengthGroupedOrder"/>). BelowPrefixCacheBytes and
/// BelowPrefixCacheType bound and type the partial-depth cache (<see cref="BelowPrefixCache"/>; internal settings).
/// </summary>
internal sealed record TrainerSettings(
    double LearningRate,
    double ProjectionLearningRate,
    double WeightDecay,
    double WarmupRatio,
    double ClipNorm,
    int BatchSize,
    int MaxEpochs,
    int EarlyStoppingPatience,
    int Seed,
    bool GroupByLength = false,
    long BelowPrefixCacheBytes = BelowPrefixCache.DefaultBytes,
    ScalarType BelowPrefixCacheType = ScalarType.BFloat16);
