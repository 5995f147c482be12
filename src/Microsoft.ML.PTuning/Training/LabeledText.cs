using Microsoft.ML.PTuning.Runtime;

namespace Microsoft.ML.PTuning.Training;

/// <summary>A text-classification row: its sentence (pair) and its 0-based class.</summary>
internal sealed record LabeledText(SentencePair Input, int Label);
