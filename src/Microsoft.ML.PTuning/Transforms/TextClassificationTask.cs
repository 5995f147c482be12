using Microsoft.ML.Data;
using Microsoft.ML.PTuning.Runtime;

namespace Microsoft.ML.PTuning.Transforms;

/// <summary>Text classification of single sentences or pairs: text column(s) → predicted key + class probabilities.</summary>
internal sealed class TextClassificationTask : PredictionTask<SentencePair, float[]>
{
    public TextClassificationTask(TrainedTask task)
        : base(task, InputColumns(task.Columns), OutputColumns(task.Columns))
    {
    }

    /// <summary>The columns this task reads and adds.</summary>
    public static readonly TaskColumnRules Rules = new(LabelColumn, InputColumns, OutputColumns);

    /// <summary>The text columns read, for training and prediction alike.</summary>
    public static IReadOnlyList<ColumnUse> InputColumns(TaskColumns columns)
    {
        var first = new ColumnUse(columns.Sentence1, nameof(PrefixTuningTextClassificationOptions.Sentence1ColumnName), ColumnKind.Text);
        return columns.Sentence2 == null
            ? new[] { first }
            : new[] { first, new ColumnUse(columns.Sentence2, nameof(PrefixTuningTextClassificationOptions.Sentence2ColumnName), ColumnKind.Text) };
    }

    /// <summary>The label column training reads.</summary>
    public static ColumnUse LabelColumn(TaskColumns columns) => new(columns.Label, nameof(PrefixTuningOptions.LabelColumnName), ColumnKind.Key);

    /// <summary>The added columns: the predicted key (1-based, as ML.NET keys are) and the class probabilities.</summary>
    public static IReadOnlyList<OutputColumn<float[]>> OutputColumns(TaskColumns columns) => new[]
    {
        OutputColumn<float[]>.Of(columns.Prediction, OutputShape.ClassKey,
            (float[] probabilities, ref uint key) => key = (uint)InferenceEngine.ArgMax(probabilities) + 1),
        OutputColumn<float[]>.Of(columns.Score!, OutputShape.ClassProbabilities, (float[] probabilities, ref VBuffer<float> value) =>
        {
            var editor = VBufferEditor.Create(ref value, probabilities.Length);
            probabilities.CopyTo(editor.Values);
            value = editor.Commit();
        }),
    };

    public override Func<SentencePair> CreateInputReader(DataViewRow row) => ReadSentences(row, Inputs.Select(c => c.Find(row.Schema)));

    /// <summary>A reader of the current row's sentence (pair) from its one or two text columns; prediction and training share it.</summary>
    public static Func<SentencePair> ReadSentences(DataViewRow row, IEnumerable<DataViewSchema.Column> textColumns)
    {
        var getters = textColumns.Select(row.GetGetter<ReadOnlyMemory<char>>).ToArray();
        ReadOnlyMemory<char> a = default, b = default;
        return () =>
        {
            getters[0](ref a);
            string? pair = null;
            if (getters.Length > 1)
            {
                getters[1](ref b);
                pair = b.ToString();
            }
            return new SentencePair(a.ToString(), pair);
        };
    }

    public override float[][] Predict(IReadOnlyList<SentencePair> inputs) => Engine.Classify(inputs);
}
