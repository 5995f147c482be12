using Microsoft.ML.Data;
using Microsoft.ML.PTuning.Runtime;

namespace Microsoft.ML.PTuning.Transforms;

/// <summary>
/// Token classification (NER): a text column split into words on white space → one predicted key per word
/// (<see cref="InferenceEngine.TagWords"/> says how sentences longer than the token budget are covered).
/// </summary>
internal sealed class TokenClassificationTask : PredictionTask<string[], int[]>
{
    public TokenClassificationTask(TrainedTask task)
        : base(task, InputColumns(task.Columns), OutputColumns(task.Columns))
    {
    }

    /// <summary>The columns this task reads and adds.</summary>
    public static readonly TaskColumnRules Rules = new(LabelColumn, InputColumns, OutputColumns);

    /// <summary>The sentence column read, for training and prediction alike.</summary>
    public static IReadOnlyList<ColumnUse> InputColumns(TaskColumns columns) =>
        new[] { new ColumnUse(columns.Sentence1, nameof(PrefixTuningTokenClassificationOptions.SentenceColumnName), ColumnKind.Text) };

    /// <summary>The label column training reads: one key per word.</summary>
    public static ColumnUse LabelColumn(TaskColumns columns) => new(columns.Label, nameof(PrefixTuningOptions.LabelColumnName), ColumnKind.KeyVector);

    /// <summary>The added column: one key per word (1-based, as ML.NET keys are).</summary>
    public static IReadOnlyList<OutputColumn<int[]>> OutputColumns(TaskColumns columns) => new[]
    {
        OutputColumn<int[]>.Of(columns.Prediction, OutputShape.ClassKeyPerWord, (int[] classes, ref VBuffer<uint> value) =>
        {
            var editor = VBufferEditor.Create(ref value, classes.Length);
            for (int i = 0; i < classes.Length; i++)
                editor.Values[i] = (uint)classes[i] + 1;
            value = editor.Commit();
        }),
    };

    /// <summary>The words of a sentence: split on any white space, empty entries dropped.</summary>
    public static string[] SplitWords(string? sentence) =>
        string.IsNullOrEmpty(sentence) ? Array.Empty<string>() : sentence.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    public override Func<string[]> CreateInputReader(DataViewRow row)
    {
        var getter = row.GetGetter<ReadOnlyMemory<char>>(Inputs[0].Find(row.Schema));
        ReadOnlyMemory<char> text = default;
        return () =>
        {
            getter(ref text);
            return SplitWords(text.ToString());
        };
    }

    public override int[][] Predict(IReadOnlyList<string[]> inputs) => Engine.TagWords(inputs);
}
