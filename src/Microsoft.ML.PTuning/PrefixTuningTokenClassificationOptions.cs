namespace Microsoft.ML.PTuning;

/// <summary>
/// Options for prefix-tuned token classification (e.g. named-entity recognition). Input: a text column whose words are
/// split on white space and a label column holding a vector of keys, one per word. Output:
/// <see cref="PrefixTuningOptions.PredictionColumnName"/>, a vector of keys with one prediction per word.
/// The first sub-token of each word carries its label in the loss; the others are ignored.
/// </summary>
public sealed class PrefixTuningTokenClassificationOptions : PrefixTuningOptions
{
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
