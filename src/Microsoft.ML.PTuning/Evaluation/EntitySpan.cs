namespace Microsoft.ML.PTuning.Evaluation;

/// <summary>One entity found in a tag sequence: its type and the first and last token it covers (both inclusive).</summary>
internal readonly record struct EntitySpan(string Type, int Start, int End);
