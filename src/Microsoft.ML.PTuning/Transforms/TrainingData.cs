using Microsoft.ML.Data;
using Microsoft.ML.PTuning.Tokenization;
using Microsoft.ML.PTuning.Training;

namespace Microsoft.ML.PTuning;

/// <summary>A token-classification sentence: its words and one 0-based class per word (-1 where the label is missing).</summary>
internal sealed record LabeledSentence(string[] Words, int[] Labels);

/// <summary>Reads training and validation rows out of an <see cref="IDataView"/> and tokenizes them.</summary>
internal static class TrainingData
{
    /// <summary>Tokenizes one text-classification row, truncated to <paramref name="maxTokens"/> (pairs longest-first).</summary>
    public static (int[] InputIds, int[] TokenTypeIds) EncodeText(EncoderTokenizer tokenizer, int maxTokens, string? text, string? pair)
    {
        var encoded = tokenizer.Encode(text ?? string.Empty, pair, maxTokens);
        return (encoded.InputIds, encoded.TokenTypeIds);
    }

    /// <summary>Training examples of one sentence: windows without overlap, each word's label on its first sub-token.</summary>
    public static IEnumerable<TrainingExample> EncodeSentence(EncoderTokenizer tokenizer, int maxTokens, LabeledSentence sentence)
    {
        if (sentence.Words.Length == 0)
            yield break;
        foreach (EncodedWords window in tokenizer.EncodeWordWindows(sentence.Words, maxTokens, overlapWords: 0))
        {
            var labels = window.WordIndex.Select(w => w >= 0 && sentence.Labels[w] >= 0 ? sentence.Labels[w] : TrainingExample.IgnoreIndex).ToArray();
            yield return new TrainingExample(window.InputIds, window.TokenTypeIds, labels);
        }
    }

    /// <summary>Text-classification examples; rows with a missing label (key 0) are skipped and counted.</summary>
    public static List<TrainingExample> ReadTextClassification(IDataView data, TaskColumns columns, int classCount,
        EncoderTokenizer tokenizer, int maxTokens, string dataName, out int skipped)
    {
        var schema = data.Schema;
        var first = ColumnChecks.RequireText(schema, columns.Sentence1, nameof(PrefixTuningTextClassificationOptions.Sentence1ColumnName));
        var second = columns.Sentence2 == null ? (DataViewSchema.Column?)null
            : ColumnChecks.RequireText(schema, columns.Sentence2, nameof(PrefixTuningTextClassificationOptions.Sentence2ColumnName));
        var label = ColumnChecks.RequireKey(schema, columns.Label, nameof(PrefixTuningOptions.LabelColumnName));
        CheckSameClasses(label, classCount, dataName);

        var active = new List<DataViewSchema.Column> { first, label };
        if (second != null)
            active.Add(second.Value);
        using var cursor = data.GetRowCursor(active);
        var getFirst = cursor.GetGetter<ReadOnlyMemory<char>>(first);
        var getSecond = second == null ? null : cursor.GetGetter<ReadOnlyMemory<char>>(second.Value);
        var getLabel = cursor.GetGetter<uint>(label);
        ReadOnlyMemory<char> a = default, b = default;
        uint key = 0;
        var examples = new List<TrainingExample>();
        skipped = 0;
        while (cursor.MoveNext())
        {
            getLabel(ref key);
            if (key == 0)
            {
                skipped++;
                continue;
            }
            getFirst(ref a);
            string? pair = null;
            if (getSecond != null)
            {
                getSecond(ref b);
                pair = b.ToString();
            }
            var (ids, types) = EncodeText(tokenizer, maxTokens, a.ToString(), pair);
            examples.Add(new TrainingExample(ids, types, new[] { (int)key - 1 }));
        }
        return examples;
    }

    /// <summary>Token-classification sentences; the label vector must have one key per word.</summary>
    public static List<LabeledSentence> ReadTokenClassification(IDataView data, TaskColumns columns, int classCount, string dataName)
    {
        var schema = data.Schema;
        var sentence = ColumnChecks.RequireText(schema, columns.Sentence1, nameof(PrefixTuningTokenClassificationOptions.SentenceColumnName));
        var label = ColumnChecks.RequireKeyVector(schema, columns.Label, nameof(PrefixTuningOptions.LabelColumnName));
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
                throw new InvalidOperationException(
                    $"{dataName}, row {cursor.Position}: column '{columns.Label}' has {keys.Length} labels but column '{columns.Sentence1}' has {words.Length} words (split on white space); they must match one to one.");
            var labels = keys.DenseValues().Select(k => (int)k - 1).ToArray();
            sentences.Add(new LabeledSentence(words, labels));
        }
        return sentences;
    }

    private static void CheckSameClasses(DataViewSchema.Column label, int classCount, string dataName)
    {
        int count = ColumnChecks.KeyCount(label);
        if (count != classCount)
            throw new InvalidOperationException(
                $"{dataName}: label column '{label.Name}' has {count} key values, but the training data has {classCount}. Map both with the same MapValueToKey transformer (fit it on the training data).");
    }
}
