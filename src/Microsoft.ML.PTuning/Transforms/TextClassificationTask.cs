using Microsoft.ML.Data;
using Microsoft.ML.PTuning.Training;

namespace Microsoft.ML.PTuning;

/// <summary>Text classification of single sentences or pairs: text column(s) → predicted key + class probabilities.</summary>
internal sealed class TextClassificationTask : PredictionTask
{
    public TextClassificationTask(TaskEngine engine, TaskColumns columns, string[]? classNames)
        : base(engine, columns, classNames)
    {
    }

    public override IReadOnlyList<string> InputColumnNames =>
        Columns.Sentence2 == null ? new[] { Columns.Sentence1 } : new[] { Columns.Sentence1, Columns.Sentence2 };

    public override IReadOnlyList<string> OutputColumnNames => new[] { Columns.Prediction, Columns.Score! };

    public override void CheckInputSchema(DataViewSchema schema)
    {
        ColumnChecks.RequireText(schema, Columns.Sentence1, nameof(PrefixTuningTextClassificationOptions.Sentence1ColumnName));
        if (Columns.Sentence2 != null)
            ColumnChecks.RequireText(schema, Columns.Sentence2, nameof(PrefixTuningTextClassificationOptions.Sentence2ColumnName));
    }

    public override void AddOutputColumns(DataViewSchema.Builder builder)
    {
        builder.AddColumn(Columns.Prediction, new KeyDataViewType(typeof(uint), Engine.ClassCount), ColumnChecks.KeyValuesAnnotation(ClassNames));
        builder.AddColumn(Columns.Score!, new VectorDataViewType(NumberDataViewType.Single, Engine.ClassCount));
    }

    public override Func<object> CreateInputReader(DataViewRow row)
    {
        var first = TextGetter(row, Columns.Sentence1);
        var second = Columns.Sentence2 == null ? null : TextGetter(row, Columns.Sentence2);
        ReadOnlyMemory<char> a = default, b = default;
        return () =>
        {
            first(ref a);
            string? pair = null;
            if (second != null)
            {
                second(ref b);
                pair = b.ToString();
            }
            return (a.ToString(), pair);
        };
    }

    public override object[] Predict(IReadOnlyList<object> inputs)
    {
        var sequences = inputs.Select(i => ((string, string?))i).Select(p => TrainingData.EncodeText(Engine.Tokenizer, Engine.MaxTokens, p.Item1, p.Item2)).ToList();
        return Engine.Classify(sequences);
    }

    public override Delegate CreateOutputGetter(int ordinal, Func<object> current) => ordinal switch
    {
        0 => (ValueGetter<uint>)((ref uint value) => value = (uint)TaskEngine.ArgMax((float[])current()) + 1),
        1 => (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
        {
            var probabilities = (float[])current();
            var editor = VBufferEditor.Create(ref value, probabilities.Length);
            probabilities.CopyTo(editor.Values);
            value = editor.Commit();
        }),
        _ => throw new ArgumentOutOfRangeException(nameof(ordinal)),
    };

    /// <summary>Accuracy of the engine's model on tokenized examples (validation during training).</summary>
    public double Accuracy(IReadOnlyList<TrainingExample> examples)
    {
        int correct = 0;
        Engine.Run(examples.Select(e => (e.InputIds, e.TokenTypeIds)).ToList(), (row, logits) =>
        {
            if (TaskEngine.ArgMax(logits) == examples[row].Labels[0])
                correct++;
        });
        return examples.Count == 0 ? 0 : (double)correct / examples.Count;
    }
}

/// <summary>The column names a trained task reads and writes (saved in the model zip).</summary>
internal sealed record TaskColumns(string Sentence1, string? Sentence2, string Label, string Prediction, string? Score);
