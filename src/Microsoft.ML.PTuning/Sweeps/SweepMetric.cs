namespace Microsoft.ML.PTuning;

/// <summary>The validation metric a sweep ranks trials by.</summary>
public enum SweepMetric
{
    /// <summary>The task's own: accuracy for text classification; entity micro-F1 for BIO token labels, else word accuracy.</summary>
    Default,

    /// <summary>Accuracy: of sentences for text classification, of labelled words for token classification.</summary>
    Accuracy,

    /// <summary>Entity-level micro-F1 (seqeval rules for BIO tags); token classification only.</summary>
    EntityF1,
}
