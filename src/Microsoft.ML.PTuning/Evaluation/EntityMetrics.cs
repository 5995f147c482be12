using Microsoft.ML.PTuning.Evaluation;

namespace Microsoft.ML.PTuning;

/// <summary>
/// Entity-level evaluation of token classification (named-entity recognition), with the semantics of seqeval's
/// default mode, which matches the CoNLL shared tasks' conlleval script.
/// </summary>
/// <remarks>
/// <para>
/// Entities are read from BIO/IOB2 tags (IOBES tags work too); see
/// <see cref="EntityEvaluationCatalogExtensions.EvaluateEntities"/> for the chunking rules. A predicted entity is
/// correct only when its type, first token and last token all equal a gold entity's, so a partly found entity
/// counts as one false positive and one false negative.
/// </para>
/// <para>
/// A ratio whose denominator is zero is 0, never NaN: with no predicted entities <see cref="Precision"/> is 0, with
/// no gold entities <see cref="Recall"/> is 0, and <see cref="F1"/> is 0 when both are 0. Data with no entities at all
/// (every tag O) therefore scores 0 on precision, recall and F1, and its <see cref="TokenAccuracy"/> alone tells how
/// well the tags match.
/// </para>
/// </remarks>
public sealed class EntityMetrics
{
    internal EntityMetrics(int correct, int predicted, int gold, double tokenAccuracy,
        IReadOnlyDictionary<string, EntityTypeMetrics> perEntityType)
    {
        Precision = EntityScores.Ratio(correct, predicted);
        Recall = EntityScores.Ratio(correct, gold);
        F1 = EntityScores.F1(Precision, Recall);
        MacroF1 = perEntityType.Count > 0 ? perEntityType.Values.Average(m => m.F1) : 0.0;
        TokenAccuracy = tokenAccuracy;
        PerEntityType = perEntityType;
    }

    /// <summary>Micro-averaged precision: correct entities over all predicted entities, of every type.</summary>
    public double Precision { get; }

    /// <summary>Micro-averaged recall: correct entities over all gold entities, of every type.</summary>
    public double Recall { get; }

    /// <summary>Micro-averaged F1, the harmonic mean of <see cref="Precision"/> and <see cref="Recall"/>; the usual headline NER score.</summary>
    public double F1 { get; }

    /// <summary>
    /// The unweighted mean of the per-type F1 scores, over every type that occurs in the gold tags or in the
    /// predictions (a type only ever predicted contributes an F1 of 0); 0 when there are no types.
    /// </summary>
    public double MacroF1 { get; }

    /// <summary>The fraction of tokens whose predicted tag equals the gold tag, O tags included; 0 when there are no tokens.</summary>
    public double TokenAccuracy { get; }

    /// <summary>Scores per entity type, keyed by type name (PER, not B-PER), for every type in the gold tags or the predictions.</summary>
    public IReadOnlyDictionary<string, EntityTypeMetrics> PerEntityType { get; }
}
