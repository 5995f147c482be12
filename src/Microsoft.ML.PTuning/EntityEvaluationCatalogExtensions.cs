using Microsoft.ML.PTuning;
using Microsoft.ML.PTuning.Evaluation;
using Microsoft.ML.PTuning.Transforms;

namespace Microsoft.ML;

/// <summary>Entity-level evaluation of token classification, on ML.NET's multiclass classification catalog.</summary>
public static class EntityEvaluationCatalogExtensions
{
    /// <summary>
    /// Scores predicted tag sequences against gold ones at the level of whole entities, as seqeval's default mode
    /// (and the CoNLL conlleval script) does: micro precision, recall and F1, macro F1 over entity types, per-type
    /// scores and token accuracy.
    /// </summary>
    /// <param name="catalog">The multiclass classification catalog, <c>mlContext.MulticlassClassification</c>.</param>
    /// <param name="data">Rows of one sentence each.</param>
    /// <param name="labelColumnName">The gold tags: a vector of key type whose KeyValues annotation holds the tag names
    /// (as <c>MapValueToKey</c> makes from a <c>string[]</c> column), or a vector of text.</param>
    /// <param name="predictedLabelColumnName">The predicted tags, in either form. Keys are compared by tag name, so this
    /// column may use another key mapping than the label column.</param>
    /// <returns>The entity-level metrics over all rows.</returns>
    /// <remarks>
    /// <para>
    /// Tags are BIO/IOB2 (<c>B-PER</c>, <c>I-PER</c>, <c>O</c>); IOBES tags (<c>E-</c>, <c>S-</c>) are read as seqeval reads them.
    /// An entity starts at B-X, or at I-X after O or after a tag of another type (conlleval's lenient start), and ends
    /// where the next tag is not I-X. A predicted entity is correct only when its type, first and last token all
    /// match a gold entity. Entities never cross rows.
    /// </para>
    /// <para>
    /// A tag with no prefix other than O (say <c>PER</c>) is read as <c>I-PER</c>; seqeval instead warns and splits off
    /// its first letter. A missing key (0) is read as O. Ratios with a zero denominator are 0, so data without any
    /// entity scores 0 precision, recall and F1.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type.</exception>
    /// <exception cref="InvalidOperationException">A row's label and prediction differ in length, or a key has no name.</exception>
    public static EntityMetrics EvaluateEntities(this MulticlassClassificationCatalog catalog, IDataView data,
        string labelColumnName = "Label", string predictedLabelColumnName = "PredictedLabel")
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(data);
        TagSequenceColumn label = TagSequenceColumn.Bind(data.Schema, labelColumnName, nameof(labelColumnName));
        TagSequenceColumn predicted = TagSequenceColumn.Bind(data.Schema, predictedLabelColumnName, nameof(predictedLabelColumnName));

        var accumulator = new EntityMetricsAccumulator();
        using DataViewRowCursor cursor = data.GetRowCursor(new[] { label.Column, predicted.Column });
        Func<long, string[]> getLabel = label.CreateGetter(cursor);
        Func<long, string[]> getPredicted = predicted.CreateGetter(cursor);
        long row = 0;
        while (cursor.MoveNext())
        {
            string[] gold = getLabel(row);
            string[] guess = getPredicted(row);
            if (gold.Length != guess.Length)
            {
                throw new InvalidOperationException(
                    $"Row {row} has {gold.Length} tags in label column '{labelColumnName}' but {guess.Length} in predicted " +
                    $"column '{predictedLabelColumnName}'; expected one predicted tag per label tag.");
            }

            accumulator.Add(gold, guess);
            row++;
        }

        return accumulator.ToMetrics();
    }
}
