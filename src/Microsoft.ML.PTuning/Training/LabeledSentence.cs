namespace Microsoft.ML.PTuning.Training;

/// <summary>A token-classification sentence: its words and one 0-based class per word (-1 where the label is missing).</summary>
internal sealed record LabeledSentence(string[] Words, int[] Labels);
