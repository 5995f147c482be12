using Microsoft.ML.Data;

namespace Microsoft.ML.PTuning.Transforms;

/// <summary>Row-to-row mapping for <c>PredictionEngine</c>: predicts the current row (a batch of one) when a getter asks.</summary>
internal sealed class PredictionRowMapper<TInput, TOutput> : IRowToRowMapper
{
    private readonly PredictionTask<TInput, TOutput> _task;

    public PredictionRowMapper(DataViewSchema inputSchema, PredictionTask<TInput, TOutput> task)
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
            result.AddRange(_task.Inputs.Select(c => c.Find(InputSchema)));
        return result.Distinct();
    }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns) =>
        new MappedRow(this, input, activeColumns.Select(c => c.Index).ToHashSet());

    private sealed class MappedRow : DataViewRow
    {
        private readonly PredictionRowMapper<TInput, TOutput> _parent;
        private readonly DataViewRow _input;
        private readonly HashSet<int> _active;
        private readonly Lazy<Func<TInput>> _reader;
        private long _predictedPosition = -1;
        private bool _hasOutput;
        private TOutput _output = default!;

        public MappedRow(PredictionRowMapper<TInput, TOutput> parent, DataViewRow input, HashSet<int> active)
        {
            _parent = parent;
            _input = input;
            _active = active;
            _reader = new Lazy<Func<TInput>>(() => parent._task.CreateInputReader(input));
        }

        public override DataViewSchema Schema => _parent.OutputSchema;

        public override long Position => _input.Position;

        public override long Batch => _input.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        private TOutput Current()
        {
            if (!_hasOutput || _predictedPosition != _input.Position)
            {
                _output = _parent._task.Predict(new[] { _reader.Value() })[0];
                _predictedPosition = _input.Position;
                _hasOutput = true;
            }
            return _output;
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            int inputCount = _parent.InputSchema.Count;
            if (column.Index < inputCount)
                return _input.GetGetter<TValue>(_input.Schema[column.Index]);
            return _parent._task.OutputGetter<TValue>(column.Index - inputCount, Current);
        }
    }
}
