using Microsoft.ML.PTuning.Transforms;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.PTuning;

/// <summary>
/// Trains a prefix-tuned text classifier (single sentences or pairs). Create it with
/// <c>mlContext.Transforms.Text.PrefixTuning(new PrefixTuningTextClassificationOptions { ... })</c>.
/// </summary>
public sealed class PrefixTuningTextClassificationEstimator : PrefixTuningEstimator<PrefixTuningTextClassificationOptions>
{
    internal PrefixTuningTextClassificationEstimator(IHostEnvironment env, PrefixTuningTextClassificationOptions options)
        : base(env, options, TextClassificationTask.Rules)
    {
    }
}
