namespace Microsoft.ML.PTuning;

/// <summary>
/// Options for prefix-tuned token classification (e.g. named-entity recognition). Input: a text column whose words are
/// split on white space and a label column holding a vector of keys, one per word. Output:
/// <see cref="PrefixTuningOptions.PredictionColumnName"/>, a vector of keys with one prediction per word.
/// The first sub-token of each word carries its label in the loss; the others are ignored.
/// </summary>
public sealed class PrefixTuningTokenClassificationOptions : PrefixTuningOptions
{
    internal const int DefaultPrefixLength = 64, DefaultMaxEpochs = 30;

    /// <summary>
    /// Token classification's defaults: <see cref="PrefixTuningOptions.PrefixLength"/> 64, prefix tuning's
    /// <see cref="PrefixTuningOptions.LearningRate"/> 3e-2, <see cref="PrefixTuningOptions.MaxEpochs"/> 30,
    /// <see cref="PrefixTuningOptions.EarlyStoppingPatience"/> 5: a sequence-labelling prefix trains longer than a
    /// sentence classifier's. The linear probe's default rate is 1e-2, full fine-tuning's 3e-5.
    /// </summary>
    /// <remarks>
    /// From the converged quality profile on WNUT-17 (all-MiniLM-L6-v2, the whole training split, docs/BENCHMARKS.md,
    /// "Defaults"): at P = 16 the dev entity F1 was best at 3e-2 (0.550, against 0.542 at 1e-2, 0.509 at 3e-3 and 0.497
    /// at 9e-2), at epoch 22 of 30 and still climbing as the rate decayed, and it moved 2–5 points between epochs, so
    /// patience 3 would have stopped it at epoch 10 on 0.512. At 3e-2, P = 64 reached the same F1 (0.550) by epoch 9, in
    /// less training time, and P = 128 fell back (0.541). The linear probe over frozen token features read 0.342, 0.382,
    /// 0.386 and 0.367 at 1e-3, 3e-3, 1e-2 and 3.3e-2 (1e-3 still climbing at epoch 29 of 30). Full fine-tuning read
    /// 0.589, 0.577 and 0.519 at 3e-5, 1e-4 and 3e-4, overfitting sooner the higher the rate.
    /// </remarks>
    public PrefixTuningTokenClassificationOptions()
        : base(DefaultPrefixLength, DefaultMaxEpochs, earlyStoppingPatience: 5, prefixTuningLearningRate: 3e-2,
            linearProbeLearningRate: 1e-2, fullFineTuningLearningRate: 3e-5)
    {
    }

    /// <summary>The text column; words are split on white space.</summary>
    public string SentenceColumnName { get; set; } = "Sentence";

    internal override void Validate()
    {
        base.Validate();
        RequireName(SentenceColumnName, nameof(SentenceColumnName));
        if (Method is TuningMethod.HandcraftedPrompt or TuningMethod.PTuningV1)
            throw new ArgumentException($"Method {Method} classifies text at a mask; use PrefixTuningTextClassificationOptions (token classification has no prompt methods).", nameof(Method));
    }
}
