using Microsoft.ML.Data;
using Microsoft.ML.PTuning.Runtime;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.PTuning.Transforms;

/// <summary>
/// What differs between the tasks at inference: which input columns are read into a <typeparamref name="TInput"/> per
/// row, how a batch of inputs becomes one <typeparamref name="TOutput"/> per row, and which columns are added.
/// <see cref="PredictionDataView{TInput, TOutput}"/> and <see cref="PredictionRowMapper{TInput, TOutput}"/> do the ML.NET
/// plumbing once for all tasks, with rows typed end to end.
/// </summary>
internal abstract class PredictionTask<TInput, TOutput> : IPredictionTask
{
    private protected PredictionTask(TrainedTask task, IReadOnlyList<ColumnUse> inputs, IReadOnlyList<OutputColumn<TOutput>> outputs)
    {
        Trained = task;
        Inputs = inputs;
        Outputs = outputs;
    }

    protected TrainedTask Trained { get; }

    /// <summary>The ML.NET context whose cancellation stops a transform between windows of rows, or null.</summary>
    public IHostEnvironment? Host { get; init; }

    protected InferenceEngine Engine => Trained.Engine;

    /// <summary>Input columns the predictions depend on.</summary>
    public IReadOnlyList<ColumnUse> Inputs { get; }

    /// <summary>The added columns, in order.</summary>
    public IReadOnlyList<OutputColumn<TOutput>> Outputs { get; }

    /// <summary>Binds getters on <paramref name="row"/>; the returned function reads the current row's input.</summary>
    public abstract Func<TInput> CreateInputReader(DataViewRow row);

    /// <summary>Predicts a batch: one output per input, in order.</summary>
    public abstract TOutput[] Predict(IReadOnlyList<TInput> inputs);

    public DataViewSchema OutputSchema(DataViewSchema inputSchema)
    {
        foreach (var input in Inputs)
            input.Find(inputSchema);
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        foreach (var output in Outputs)
            output.AddTo(builder, Engine.ClassCount, Trained.ClassNames);
        return builder.ToSchema();
    }

    public IDataView Transform(IDataView input) => new PredictionDataView<TInput, TOutput>(input, this);

    public IRowToRowMapper CreateRowMapper(DataViewSchema inputSchema) => new PredictionRowMapper<TInput, TOutput>(inputSchema, this);

    /// <summary>The getter of output column <paramref name="ordinal"/> (0-based among the added columns).</summary>
    internal ValueGetter<TValue> OutputGetter<TValue>(int ordinal, Func<TOutput> current) => Outputs[ordinal].CreateGetter<TValue>(current);
}
