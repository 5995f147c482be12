using Microsoft.ML.Data;

namespace Microsoft.ML.PTuning;

/// <summary>
/// What differs between the two tasks at inference: which input columns are read, which output columns are added,
/// and how a batch of inputs becomes outputs. <see cref="PredictionDataView"/> and <see cref="PredictionRowMapper"/>
/// do the ML.NET plumbing once for both.
/// </summary>
internal abstract class PredictionTask
{
    protected PredictionTask(TaskEngine engine, TaskColumns columns, string[]? classNames)
    {
        Engine = engine;
        Columns = columns;
        ClassNames = classNames;
    }

    protected TaskEngine Engine { get; }

    public TaskColumns Columns { get; }

    /// <summary>Class names (the label's key values), or null when the label had none.</summary>
    protected string[]? ClassNames { get; }

    /// <summary>Input columns the predictions depend on.</summary>
    public abstract IReadOnlyList<string> InputColumnNames { get; }

    /// <summary>Names of the added output columns, in the order <see cref="AddOutputColumns"/> adds them.</summary>
    public abstract IReadOnlyList<string> OutputColumnNames { get; }

    /// <summary>Throws, naming the column, when an input column is missing or of the wrong type.</summary>
    public abstract void CheckInputSchema(DataViewSchema schema);

    public abstract void AddOutputColumns(DataViewSchema.Builder builder);

    /// <summary>Binds getters on <paramref name="row"/>; the returned function reads the current row's input.</summary>
    public abstract Func<object> CreateInputReader(DataViewRow row);

    /// <summary>Predicts a batch: one output per input, in order.</summary>
    public abstract object[] Predict(IReadOnlyList<object> inputs);

    /// <summary>A <c>ValueGetter&lt;T&gt;</c> for output column <paramref name="ordinal"/> reading <paramref name="current"/>'s output.</summary>
    public abstract Delegate CreateOutputGetter(int ordinal, Func<object> current);

    /// <summary>The input schema plus the output columns (which hide input columns of the same name).</summary>
    public DataViewSchema OutputSchema(DataViewSchema inputSchema)
    {
        CheckInputSchema(inputSchema);
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        AddOutputColumns(builder);
        return builder.ToSchema();
    }

    protected static ValueGetter<ReadOnlyMemory<char>> TextGetter(DataViewRow row, string name) =>
        row.GetGetter<ReadOnlyMemory<char>>(row.Schema[name]);
}

/// <summary>The transformed data: input columns pass through, predictions are computed in batches as rows are read.</summary>
internal sealed class PredictionDataView : IDataView
{
    private readonly IDataView _input;
    private readonly PredictionTask _task;

    public PredictionDataView(IDataView input, PredictionTask task)
    {
        _input = input;
        _task = task;
        Schema = task.OutputSchema(input.Schema);
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.Select(c => c.Index).ToHashSet();
        int inputCount = _input.Schema.Count;
        bool predict = needed.Any(i => i >= inputCount);
        var passThrough = needed.Where(i => i < inputCount).Select(i => _input.Schema[i]).ToList();
        return new PredictionCursor(this, _input, _task, passThrough, predict);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        new[] { GetRowCursor(columnsNeeded, rand) };

    /// <summary>
    /// Two cursors over the input in the same order: one for pass-through columns at the current row, one that reads
    /// ahead a batch of text and runs it through the model. No per-row forward pass, no buffering of other columns.
    /// </summary>
    private sealed class PredictionCursor : DataViewRowCursor
    {
        private readonly PredictionDataView _parent;
        private readonly PredictionTask _task;
        private readonly DataViewRowCursor _current;
        private readonly DataViewRowCursor? _ahead;
        private readonly Func<object>? _readAhead;
        private readonly HashSet<int> _active;
        private object[] _outputs = Array.Empty<object>();
        private long _batchStart;

        public PredictionCursor(PredictionDataView parent, IDataView input, PredictionTask task, List<DataViewSchema.Column> passThrough, bool predict)
        {
            _parent = parent;
            _task = task;
            _current = input.GetRowCursor(passThrough);
            _active = passThrough.Select(c => c.Index).ToHashSet();
            if (predict)
            {
                int inputCount = input.Schema.Count;
                for (int i = inputCount; i < parent.Schema.Count; i++)
                    _active.Add(i);
                _ahead = input.GetRowCursor(task.InputColumnNames.Select(n => input.Schema[n]));
                _readAhead = task.CreateInputReader(_ahead);
            }
        }

        public override DataViewSchema Schema => _parent.Schema;

        public override long Position => _current.Position;

        public override long Batch => _current.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => _current.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override bool MoveNext()
        {
            if (!_current.MoveNext())
                return false;
            if (_ahead != null && _current.Position >= _batchStart + _outputs.Length)
                ReadNextBatch();
            return true;
        }

        private void ReadNextBatch()
        {
            var inputs = new List<object>(TaskEngine.InferenceBatchSize);
            _batchStart = _current.Position;
            while (inputs.Count < TaskEngine.InferenceBatchSize && _ahead!.MoveNext())
                inputs.Add(_readAhead!());
            _outputs = _task.Predict(inputs);
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!IsColumnActive(column))
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when this cursor was created.");
            int inputCount = _current.Schema.Count;
            if (column.Index < inputCount)
                return _current.GetGetter<TValue>(_current.Schema[column.Index]);
            var getter = _task.CreateOutputGetter(column.Index - inputCount, () => _outputs[_current.Position - _batchStart]);
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' is of type {column.Type}, not {typeof(TValue).Name}.");
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _current.Dispose();
                _ahead?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}

/// <summary>Row-to-row mapping for <c>PredictionEngine</c>: predicts the current row (a batch of one) when a getter asks.</summary>
internal sealed class PredictionRowMapper : IRowToRowMapper
{
    private readonly PredictionTask _task;

    public PredictionRowMapper(DataViewSchema inputSchema, PredictionTask task)
    {
        _task = task;
        InputSchema = inputSchema;
        OutputSchema = task.OutputSchema(inputSchema);
    }

    public DataViewSchema InputSchema { get; }

    public DataViewSchema OutputSchema { get; }

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
    {
        var columns = dependingColumns.ToList();
        var result = columns.Where(c => c.Index < InputSchema.Count).Select(c => InputSchema[c.Index]).ToList();
        if (columns.Any(c => c.Index >= InputSchema.Count))
            result.AddRange(_task.InputColumnNames.Select(n => InputSchema[n]));
        return result.Distinct();
    }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns) =>
        new MappedRow(this, input, activeColumns.Select(c => c.Index).ToHashSet());

    private sealed class MappedRow : DataViewRow
    {
        private readonly PredictionRowMapper _parent;
        private readonly DataViewRow _input;
        private readonly HashSet<int> _active;
        private readonly Lazy<Func<object>> _reader;
        private long _predictedPosition = -1;
        private object? _output;

        public MappedRow(PredictionRowMapper parent, DataViewRow input, HashSet<int> active)
        {
            _parent = parent;
            _input = input;
            _active = active;
            _reader = new Lazy<Func<object>>(() => parent._task.CreateInputReader(input));
        }

        public override DataViewSchema Schema => _parent.OutputSchema;

        public override long Position => _input.Position;

        public override long Batch => _input.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        private object Current()
        {
            if (_output == null || _predictedPosition != _input.Position)
            {
                _output = _parent._task.Predict(new[] { _reader.Value() })[0];
                _predictedPosition = _input.Position;
            }
            return _output;
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            int inputCount = _parent.InputSchema.Count;
            if (column.Index < inputCount)
                return _input.GetGetter<TValue>(_input.Schema[column.Index]);
            return _parent._task.CreateOutputGetter(column.Index - inputCount, Current) as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' is of type {column.Type}, not {typeof(TValue).Name}.");
        }
    }
}
