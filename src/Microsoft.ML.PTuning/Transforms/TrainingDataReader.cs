using Microsoft.ML.Data;
using Microsoft.ML.PTuning.Runtime;
using Microsoft.ML.PTuning.Training;

namespace Microsoft.ML.PTuning.Transforms;

/// <summary>
/// Reads training and validation rows out of an <see cref="IDataView"/> into the in-memory datasets training takes,
/// checking the columns the task reads (<see cref="TextClassificationTask.InputColumns"/>, ...) and the label's classes.
/// A data set whose label has other key values than the training label's (a validation set keyed by its own
/// <c>MapValueToKey</c>) is mapped to the training classes by value, never by key number alone.
/// </summary>
internal static class TrainingDataReader
{
    /// <summary>Text-classification rows; rows with a missing label (key 0) are skipped and counted.</summary>
    /// <param name="data">The rows.</param>
    /// <param name="columns">The task's column names.</param>
    /// <param name="classCount">The training label's key count.</param>
    /// <param name="classNames">The training label's key values, or null.</param>
    /// <param name="dataName">What <paramref name="data"/> is, for messages.</param>
    /// <param name="log">Receives a line when the keys are mapped by value.</param>
    /// <param name="skipped">Rows skipped for a missing label.</param>
    public static TextDataset ReadText(IDataView data, TaskColumns columns, int classCount, string[]? classNames, string dataName,
        Action<string>? log, out int skipped)
    {
        var text = TextClassificationTask.InputColumns(columns).Select(c => c.Find(data.Schema)).ToList();
        var label = TextClassificationTask.LabelColumn(columns).Find(data.Schema);
        int[] toClass = ClassMap(label, classCount, classNames, dataName, log);

        using var cursor = data.GetRowCursor(text.Append(label));
        var readText = TextClassificationTask.ReadSentences(cursor, text);
        var getLabel = cursor.GetGetter<uint>(label);
        uint key = 0;
        var rows = new List<LabeledText>();
        skipped = 0;
        while (cursor.MoveNext())
        {
            getLabel(ref key);
            int cls = key < toClass.Length ? toClass[key] : -1;
            if (cls < 0)
            {
                skipped++;
                continue;
            }
            rows.Add(new LabeledText(readText(), cls));
        }
        return new TextDataset(rows);
    }

    /// <summary>Token-classification sentences; the label vector must have one key per word.</summary>
    /// <param name="data">The rows.</param>
    /// <param name="columns">The task's column names.</param>
    /// <param name="classCount">The training label's key count.</param>
    /// <param name="classNames">The training label's key values, or null.</param>
    /// <param name="dataName">What <paramref name="data"/> is, for messages.</param>
    /// <param name="log">Receives a line when the keys are mapped by value.</param>
    public static SentenceDataset ReadSentences(IDataView data, TaskColumns columns, int classCount, string[]? classNames, string dataName,
        Action<string>? log)
    {
        var sentence = TokenClassificationTask.InputColumns(columns)[0].Find(data.Schema);
        var label = TokenClassificationTask.LabelColumn(columns).Find(data.Schema);
        int[] toClass = ClassMap(label, classCount, classNames, dataName, log);

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

            var labels = keys.DenseValues().Select(k => k < toClass.Length ? toClass[k] : -1).ToArray();
            sentences.Add(new LabeledSentence(words, labels));
        }
        return new SentenceDataset(sentences, columns.Label);
    }

    /// <summary>
    /// Throws unless the training data holds at least two classes: with one, the loss reaches 0 by predicting it
    /// everywhere and nothing is learned.
    /// </summary>
    public static void RequireTwoClasses(TaskDataset train, string labelColumn, int classCount, string[]? classNames, string dataName)
    {
        long[] counts = train.ClassCounts(classCount);
        var present = Enumerable.Range(0, classCount).Where(c => counts[c] > 0).ToList();
        if (present.Count >= 2)
            return;
        string unit = train is SentenceDataset ? "words" : "rows";
        if (present.Count == 0)
            throw new InvalidOperationException($"{dataName}: label column '{labelColumn}' has no labelled {unit} (the data is empty or every label is missing).");
        int only = present[0];
        string name = classNames != null ? $"'{classNames[only]}'" : $"key {only + 1}";
        throw new InvalidOperationException(
            $"{dataName}: label column '{labelColumn}' holds only one class, {name} (all {counts[only]} labelled {unit}), of its {classCount} key values; " +
            "a classifier needs examples of at least two classes.");
    }

    /// <summary>Throws naming <c>ValidationSet</c> when it holds no labelled row: every epoch would score 0 and stop early.</summary>
    public static void RequireRows(TaskDataset validation, string labelColumn, int classCount, string optionName)
    {
        if (validation.ClassCounts(classCount).Sum() > 0)
            return;
        string unit = validation is SentenceDataset ? "labelled words" : "rows";
        throw new ArgumentException(
            $"{optionName} has no usable {unit}: it is empty or every label in column '{labelColumn}' is missing. Give rows with labels, or leave {optionName} null.",
            optionName);
    }

    /// <summary>
    /// For each key of <paramref name="label"/> (0 = missing), the 0-based training class it means, or −1. Keys are
    /// matched by their values when both sides have them; by number, with the counts checked, only when they do not.
    /// </summary>
    private static int[] ClassMap(DataViewSchema.Column label, int classCount, string[]? classNames, string dataName, Action<string>? log)
    {
        int count = KeyColumns.Count(label);
        string[]? names = KeyColumns.Names(label);
        var map = new int[count + 1];
        map[0] = -1;
        if (classNames == null || names == null)
        {
            if (count != classCount)
            {
                throw new InvalidOperationException(
                    $"{dataName}: label column '{label.Name}' has {count} key values, but the training data has {classCount}, and the key values are not " +
                    "both text, so keys can only be matched by number. Map both with the same MapValueToKey transformer (fit it on the training data).");
            }
            for (int k = 1; k <= count; k++)
                map[k] = k - 1;
            return map;
        }

        var classOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int c = 0; c < classNames.Length; c++)
            classOf.TryAdd(classNames[c], c);
        var missing = names.Where(n => !classOf.ContainsKey(n)).Distinct().ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"{dataName}: label column '{label.Name}' has key values the training label does not: {string.Join(", ", missing.Take(10).Select(n => $"'{n}'"))}" +
                $"{(missing.Count > 10 ? $" and {missing.Count - 10} more" : "")}. The model can only predict the training classes " +
                $"({string.Join(", ", classNames.Take(10).Select(n => $"'{n}'"))}{(classNames.Length > 10 ? ", ..." : "")}); map both with the same MapValueToKey transformer (fit it on the training data).");
        }
        for (int k = 1; k <= count; k++)
            map[k] = classOf[names[k - 1]];
        if (count != classCount || Enumerable.Range(1, count).Any(k => map[k] != k - 1))
            log?.Invoke($"{dataName}: label column '{label.Name}' numbers its key values differently from the training data; its labels are matched to the training classes by value.");
        return map;
    }
}
