namespace Microsoft.ML.PTuning.Modeling;

/// <summary>What a <see cref="PrefixTunedModel"/> predicts.</summary>
public enum TaskKind
{
    /// <summary>One label per sequence (pair); logits <c>[B, C]</c>.</summary>
    SequenceClassification = 0,

    /// <summary>One label per token; logits <c>[B, T, C]</c>.</summary>
    TokenClassification = 1,
}
