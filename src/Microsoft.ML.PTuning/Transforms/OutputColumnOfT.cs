using Microsoft.ML.Data;

namespace Microsoft.ML.PTuning.Transforms;

/// <summary>An output column that reads its values out of a task's per-row output <typeparamref name="TOutput"/>.</summary>
internal abstract class OutputColumn<TOutput> : OutputColumn
{
    private protected OutputColumn(string name, OutputShape shape)
        : base(name, shape)
    {
    }

    /// <summary>
    /// A getter of this column for ML.NET's <c>GetGetter&lt;TValue&gt;</c>, reading the current row's output from
    /// <paramref name="current"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException"><typeparamref name="TValue"/> is not the column's value type.</exception>
    public abstract ValueGetter<TValue> CreateGetter<TValue>(Func<TOutput> current);

    /// <summary>A column whose values of type <typeparamref name="TValue"/> are written by <paramref name="write"/>.</summary>
    public static OutputColumn<TOutput> Of<TValue>(string name, OutputShape shape, Writer<TValue> write) => new Typed<TValue>(name, shape, write);

    /// <summary>Writes one row's value of the column from that row's output.</summary>
    public delegate void Writer<TValue>(TOutput output, ref TValue value);

    private sealed class Typed<TColumnValue> : OutputColumn<TOutput>
    {
        private readonly Writer<TColumnValue> _write;

        public Typed(string name, OutputShape shape, Writer<TColumnValue> write)
            : base(name, shape) => _write = write;

        public override ValueGetter<TValue> CreateGetter<TValue>(Func<TOutput> current)
        {
            if (typeof(TValue) != typeof(TColumnValue))
                throw new InvalidOperationException($"Column '{Name}' holds {typeof(TColumnValue).Name} values, not {typeof(TValue).Name}.");
            ValueGetter<TColumnValue> getter = (ref TColumnValue value) => _write(current(), ref value);
            // The one conversion ML.NET's generic GetGetter<TValue> needs; the types were checked above.
            return (ValueGetter<TValue>)(Delegate)getter;
        }
    }
}
