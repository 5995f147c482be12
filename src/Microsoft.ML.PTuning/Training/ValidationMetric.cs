namespace Microsoft.ML.PTuning.Training;

/// <summary>What the validation set is scored by after each epoch (early stopping and the best epoch follow it).</summary>
internal enum ValidationMetric
{
    /// <summary>The task's own: accuracy for text classification; entity micro-F1 for BIO token labels, else word accuracy.</summary>
    Auto,

    /// <summary>Accuracy: of sentences for text classification, of labelled words for token classification.</summary>
    Accuracy,

    /// <summary>Entity micro-F1 (seqeval rules); token classification with BIO class names only.</summary>
    EntityF1,
}
