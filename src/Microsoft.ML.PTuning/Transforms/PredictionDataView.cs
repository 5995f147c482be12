using Microsoft.ML.Data;
using Microsoft.ML.PTuning.Runtime;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.PTuning.Transforms;

/// <summary>The transformed data: input columns pass through, predictions are computed in batches as rows are read.</summary>
internal sealed class PredictionDataView<TInput, TOutput> : IDataView
{
    private readonly IDataView _input;
    private readonly PredictionTask<TInput, TOutput> _task;

    public PredictionDataView(IDataView input, PredictionTask<TInput, TOutput> task)
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
        return new PredictionCursor(this, passThrough, predict);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        new[] { GetRowCursor(columnsNeeded, rand) };

    /// <summary>
    /// Two cursors over the input in the same order: one for pass-through columns at the current row, one that reads
    /// ahead a window of inputs (<see cref="InferenceEngine.WindowSize"/>, which the engine runs in length-sorted
    /// batches) and runs it through the model. No per-row forward pass, no buffering of other columns.
    /// </summary>
    private sealed class PredictionCursor : DataViewRowCursor
    {
        private readonly PredictionDataView<TInput, TOutput> _parent;
        private readonly DataViewRowCursor _current;
        private readonly DataViewRowCursor? _ahead;
        private readonly Func<TInput>? _readAhead;
        private readonly HashSet<int> _active;
        private TOutput[] _outputs = Array.Empty<TOutput>();
        private long _batchStart;

        public PredictionCursor(PredictionDataView<TInput, TOutput> parent, List<DataViewSchema.Column> passThrough, bool predict)
        {
            _parent = parent;
            var input = parent._input;
            _current = input.GetRowCursor(passThrough);
            _active = passThrough.Select(c => c.Index).ToHashSet();
            if (predict)
            {
                for (int i = input.Schema.Count; i < parent.Schema.Count; i++)
                    _active.Add(i);
                _ahead = input.GetRowCursor(parent._task.Inputs.Select(c => c.Find(input.Schema)));
                _readAhead = parent._task.CreateInputReader(_ahead);
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
            _parent._task.Host?.CheckAlive(); // MLContext's cancellation, as ML.NET's own transforms check it
            var inputs = new List<TInput>(InferenceEngine.WindowSize);
            _batchStart = _current.Position;
            while (inputs.Count < InferenceEngine.WindowSize && _ahead!.MoveNext())
                inputs.Add(_readAhead!());
            _outputs = _parent._task.Predict(inputs);
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!IsColumnActive(column))
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when this cursor was created.");
            int inputCount = _current.Schema.Count;
            if (column.Index < inputCount)
                return _current.GetGetter<TValue>(_current.Schema[column.Index]);
            return _parent._task.OutputGetter<TValue>(column.Index - inputCount, () => _outputs[_current.Position - _batchStart]);
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
