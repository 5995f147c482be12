using Microsoft.ML.PTuning.Transforms;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.PTuning;

/// <summary>
/// Trains a prefix-tuned token classifier (named-entity recognition). Create it with
/// <c>mlContext.Transforms.Text.PrefixTuning(new PrefixTuningTokenClassificationOptions { ... })</c>.
/// </summary>
public sealed class PrefixTuningTokenClassificationEstimator : PrefixTuningEstimator<PrefixTuningTokenClassificationOptions>
{
    internal PrefixTuningTokenClassificationEstimator(IHostEnvironment env, PrefixTuningTokenClassificationOptions options)
        : base(env, options, TokenClassificationTask.Rules)
    {
    }
}
