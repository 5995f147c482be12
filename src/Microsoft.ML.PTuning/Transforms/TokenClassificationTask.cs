using Microsoft.ML.Data;
using Microsoft.ML.PTuning.Tokenization;
using Microsoft.ML.PTuning.Training;

namespace Microsoft.ML.PTuning;

/// <summary>
/// Token classification (NER): a text column split into words on white space → one predicted key per word.
/// </summary>
/// <remarks>
/// A sentence longer than the token budget is covered by overlapping windows of whole words
/// (<see cref="EncoderTokenizer.EncodeWordWindows"/>); a word seen by two windows takes the prediction of the window in
/// which it sits farther from an edge, i.e. has more context on its short side. Training uses windows without overlap,
/// so each labelled word counts once in the loss, on its first sub-token.
/// </remarks>
internal sealed class TokenClassificationTask : PredictionTask
{
    public TokenClassificationTask(TaskEngine engine, TaskColumns columns, string[]? classNames)
        : base(engine, columns, classNames)
    {
    }

    /// <summary>Words a window repeats from the previous one at inference: an eighth of the token budget.</summary>
    private int OverlapWords => Math.Max(0, (Engine.MaxTokens - 2) / 8);

    public override IReadOnlyList<string> InputColumnNames => new[] { Columns.Sentence1 };

    public override IReadOnlyList<string> OutputColumnNames => new[] { Columns.Prediction };

    public override void CheckInputSchema(DataViewSchema schema) =>
        ColumnChecks.RequireText(schema, Columns.Sentence1, nameof(PrefixTuningTokenClassificationOptions.SentenceColumnName));

    public override void AddOutputColumns(DataViewSchema.Builder builder) =>
        builder.AddColumn(Columns.Prediction, new VectorDataViewType(new KeyDataViewType(typeof(uint), Engine.ClassCount)),
            ColumnChecks.KeyValuesAnnotation(ClassNames));

    /// <summary>The words of a sentence: split on any white space, empty entries dropped.</summary>
    public static string[] SplitWords(string? sentence) =>
        string.IsNullOrEmpty(sentence) ? Array.Empty<string>() : sentence.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    public override Func<object> CreateInputReader(DataViewRow row)
    {
        var getter = TextGetter(row, Columns.Sentence1);
        ReadOnlyMemory<char> text = default;
        return () =>
        {
            getter(ref text);
            return text.ToString();
        };
    }

    public override object[] Predict(IReadOnlyList<object> inputs)
    {
        var sentences = inputs.Select(i => SplitWords((string)i)).ToList();
        return PredictWords(sentences).Select(p => (object)p).ToArray();
    }

    /// <summary>0-based class index per word of each sentence, windows of all sentences batched together.</summary>
    public int[][] PredictWords(IReadOnlyList<string[]> sentences)
    {
        var windows = new List<(int Sentence, EncodedWords Window)>();
        for (int s = 0; s < sentences.Count; s++)
        {
            if (sentences[s].Length == 0)
                continue;
            foreach (var window in Engine.Tokenizer.EncodeWordWindows(sentences[s], Engine.MaxTokens, OverlapWords))
                windows.Add((s, window));
        }

        var predictions = sentences.Select(w => new int[w.Length]).ToArray();
        var margins = sentences.Select(w => Enumerable.Repeat(-1, w.Length).ToArray()).ToArray();
        int classes = Engine.ClassCount;
        Engine.Run(windows.Select(w => (w.Window.InputIds, w.Window.TokenTypeIds)).ToList(), (row, logits) =>
        {
            var (sentence, window) = windows[row];
            int first = window.FirstWord, count = window.WordCount;
            for (int t = 0; t < window.WordIndex.Length; t++)
            {
                int word = window.WordIndex[t];
                if (word < 0)
                    continue;
                int margin = Math.Min(word - first, first + count - 1 - word);
                if (margin <= margins[sentence][word])
                    continue;
                margins[sentence][word] = margin;
                predictions[sentence][word] = TaskEngine.ArgMax(logits.AsSpan(t * classes, classes));
            }
        });
        return predictions;
    }

    /// <summary>True when the class names look like BIO tags, so entity F1 applies.</summary>
    public bool HasBioTags => ClassNames != null && ClassNames.Any(n => n.StartsWith("B-", StringComparison.Ordinal) || n.StartsWith("I-", StringComparison.Ordinal));

    /// <summary>
    /// The validation metric: entity micro-F1 (seqeval rules) when <paramref name="entityF1"/>, else word accuracy.
    /// </summary>
    public double ValidationMetric(IReadOnlyList<LabeledSentence> sentences, bool entityF1)
    {
        int[][] predicted = PredictWords(sentences.Select(s => s.Words).ToList());
        if (entityF1 && ClassNames != null)
        {
            string[] Tags(int[] classes) => classes.Select(c => c >= 0 ? ClassNames[c] : "O").ToArray();
            return EntityMetricsAccumulator.Compute(sentences.Select(s => Tags(s.Labels)).ToList(), predicted.Select(Tags).ToList()).F1;
        }
        long correct = 0, total = 0;
        for (int s = 0; s < sentences.Count; s++)
        {
            for (int w = 0; w < predicted[s].Length; w++)
            {
                if (sentences[s].Labels[w] < 0)
                    continue;
                total++;
                if (predicted[s][w] == sentences[s].Labels[w])
                    correct++;
            }
        }
        return total == 0 ? 0 : (double)correct / total;
    }

    public override Delegate CreateOutputGetter(int ordinal, Func<object> current) => ordinal switch
    {
        0 => (ValueGetter<VBuffer<uint>>)((ref VBuffer<uint> value) =>
        {
            var classes = (int[])current();
            var editor = VBufferEditor.Create(ref value, classes.Length);
            for (int i = 0; i < classes.Length; i++)
                editor.Values[i] = (uint)classes[i] + 1;
            value = editor.Commit();
        }),
        _ => throw new ArgumentOutOfRangeException(nameof(ordinal)),
    };
}
