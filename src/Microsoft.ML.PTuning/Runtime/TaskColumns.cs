namespace Microsoft.ML.PTuning.Runtime;

/// <summary>
/// The column names a trained task reads and writes. A task carries them from training through the model zip, so a
/// loaded model reads and writes the same columns; only the ML.NET layer (Transforms) binds them to data.
/// </summary>
/// <param name="Sentence1">The (first) text column; the sentence column of token classification.</param>
/// <param name="Sentence2">The second text column of sentence pairs, or null.</param>
/// <param name="Label">The label column the task was trained on.</param>
/// <param name="Prediction">The predicted-label output column.</param>
/// <param name="Score">The class-probabilities output column (text classification), or null.</param>
internal sealed record TaskColumns(string Sentence1, string? Sentence2, string Label, string Prediction, string? Score);
