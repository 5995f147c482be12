using Microsoft.ML.PTuning.Tokenization;

namespace Microsoft.ML.PTuning.Training;

/// <summary>
/// One tokenized example. <see cref="Labels"/> holds one class index for sequence classification, or one entry per
/// token for token classification, where <see cref="IgnoreIndex"/> marks tokens that carry no label (special tokens
/// and every sub-token but a word's first).
/// </summary>
internal sealed record TrainingExample(EncodedText Tokens, int[] Labels)
{
    /// <summary>The label value the loss skips (PyTorch's default <c>ignore_index</c>).</summary>
    public const int IgnoreIndex = -100;
}
