namespace Microsoft.ML.PTuning;

/// <summary>What a <see cref="Modeling.PrefixTunedModel"/> predicts.</summary>
public enum TaskKind
{
    /// <summary>One label per sequence (pair); logits <c>[B, C]</c>.</summary>
    SequenceClassification = 0,

    /// <summary>One label per token; logits <c>[B, T, C]</c>.</summary>
    TokenClassification = 1,
}
