namespace Microsoft.ML.PTuning.Runtime;

/// <summary>Receives one row's logits from <see cref="InferenceEngine.Run"/>; the span is valid only during the call.</summary>
internal delegate void RowLogits(int row, ReadOnlySpan<float> logits);
