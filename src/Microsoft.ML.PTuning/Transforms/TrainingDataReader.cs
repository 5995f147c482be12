using Microsoft.ML.Data;
using Microsoft.ML.PTuning.Runtime;
using Microsoft.ML.PTuning.Training;

namespace Microsoft.ML.PTuning.Transforms;

/// <summary>
/// Reads training and validation rows out of an <see cref="IDataView"/> into the in-memory datasets training takes,
/// checking the columns the task reads (<see cref="TextClassificationTask.InputColumns"/>, ...) and the label's classes.
/// </summary>
internal static class TrainingDataReader
{
    /// <summary>Text-classification rows; rows with a missing label (key 0) are skipped and counted.</summary>
    public static TextDataset ReadText(IDataView data, TaskColumns columns, int classCount, string dataName, out int skipped)
    {
        var text = TextClassificationTask.InputColumns(columns).Select(c => c.Find(data.Schema)).ToList();
        var label = TextClassificationTask.LabelColumn(columns).Find(data.Schema);
        CheckSameClasses(label, classCount, dataName);

        using var cursor = data.GetRowCursor(text.Append(label));
        var readText = TextClassificationTask.ReadSentences(cursor, text);
        var getLabel = cursor.GetGetter<uint>(label);
        uint key = 0;
        var rows = new List<LabeledText>();
        skipped = 0;
        while (cursor.MoveNext())
        {
            getLabel(ref key);
            if (key == 0)
            {
                skipped++;
                continue;
            }
            rows.Add(new LabeledText(readText(), (int)key - 1));
        }
        return new TextDataset(rows);
    }

    /// <summary>Token-classification sentences; the label vector must have one key per word.</summary>
    public static SentenceDataset ReadSentences(IDataView data, TaskColumns columns, int classCount, string dataName)
    {
        var sentence = TokenClassificationTask.InputColumns(columns)[0].Find(data.Schema);
        var label = TokenClassificationTask.LabelColumn(columns).Find(data.Schema);
        CheckSameClasses(label, classCount, dataName);

        using var cursor = data.GetRowCursor(new[] { sentence, label });
        var getSentence = cursor.GetGetter<ReadOnlyMemory<char>>(sentence);
        var getLabels = cursor.GetGetter<VBuffer<uint>>(label);
        ReadOnlyMemory<char> text = default;
        VBuffer<uint> keys = default;
        var sentences = new List<LabeledSentence>();
        while (cursor.MoveNext())
        {
            getSentence(ref text);
            getLabels(ref keys);
            string[] words = TokenClassificationTask.SplitWords(text.ToString());
            if (keys.Length != words.Length)
            {
                throw new InvalidOperationException(
                    $"{dataName}, row {cursor.Position}: column '{columns.Label}' has {keys.Length} labels but column '{columns.Sentence1}' has {words.Length} words (split on white space); they must match one to one.");
            }

            var labels = keys.DenseValues().Select(k => (int)k - 1).ToArray();
            sentences.Add(new LabeledSentence(words, labels));
        }
        return new SentenceDataset(sentences, columns.Label);
    }

    private static void CheckSameClasses(DataViewSchema.Column label, int classCount, string dataName)
    {
        int count = KeyColumns.Count(label);
        if (count != classCount)
        {
            throw new InvalidOperationException(
                $"{dataName}: label column '{label.Name}' has {count} key values, but the training data has {classCount}. Map both with the same MapValueToKey transformer (fit it on the training data).");
        }
    }
}
