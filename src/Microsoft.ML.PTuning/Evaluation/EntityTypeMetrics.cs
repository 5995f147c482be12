using Microsoft.ML.PTuning.Evaluation;

namespace Microsoft.ML.PTuning;

/// <summary>Entity-level scores of one entity type (for example PER), as in seqeval's classification report.</summary>
/// <remarks>
/// A predicted entity counts as correct only when its type, first token and last token all equal those of a gold
/// entity. A ratio whose denominator is zero is reported as 0 (seqeval does the same, with a warning).
/// </remarks>
public sealed class EntityTypeMetrics
{
    internal EntityTypeMetrics(int correct, int predicted, int gold)
    {
        Precision = EntityScores.Ratio(correct, predicted);
        Recall = EntityScores.Ratio(correct, gold);
        F1 = EntityScores.F1(Precision, Recall);
        Support = gold;
    }

    /// <summary>Correct predicted entities of this type over all predicted entities of this type; 0 when none was predicted.</summary>
    public double Precision { get; }

    /// <summary>Correct predicted entities of this type over all gold entities of this type; 0 when the gold data has none.</summary>
    public double Recall { get; }

    /// <summary>Harmonic mean of <see cref="Precision"/> and <see cref="Recall"/>; 0 when both are 0.</summary>
    public double F1 { get; }

    /// <summary>How many gold entities of this type the data holds (0 for a type that only occurs in predictions).</summary>
    public int Support { get; }
}
