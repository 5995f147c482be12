using Microsoft.ML.Data;

namespace Microsoft.ML.PTuning.Transforms;

/// <summary>
/// What an input column must be, checked the same way — and worded the same way — whether the schema is a data view's
/// (<see cref="DataViewSchema"/>: Fit, Transform, evaluation) or an estimator's promise (<see cref="SchemaShape"/>:
/// <c>GetOutputSchema</c>). Errors name the column, the option or argument that named it, and the expected and actual types.
/// </summary>
internal sealed class ColumnKind
{
    /// <summary>A text scalar.</summary>
    public static readonly ColumnKind Text = new("Text (String)",
        type => type is TextDataViewType,
        shape => shape.Kind == SchemaShape.Column.VectorKind.Scalar && shape.ItemType is TextDataViewType);

    /// <summary>A key-typed scalar label (MapValueToKey on a text or numeric label).</summary>
    public static readonly ColumnKind Key = new("a key type (UInt32 key, e.g. from MapValueToKey)",
        type => type is KeyDataViewType { RawType: var raw } && raw == typeof(uint),
        shape => shape.Kind == SchemaShape.Column.VectorKind.Scalar && shape.IsKey);

    /// <summary>A vector of keys, one per word (MapValueToKey on a string[] column).</summary>
    public static readonly ColumnKind KeyVector = new("a vector of keys (UInt32 keys, e.g. MapValueToKey over a string[] column)",
        type => type is VectorDataViewType { ItemType: KeyDataViewType { RawType: var raw } } && raw == typeof(uint),
        shape => shape.Kind == SchemaShape.Column.VectorKind.VariableVector && shape.IsKey);

    /// <summary>Tag sequences for entity evaluation: keys whose KeyValues name the tags, or the tags as text.</summary>
    public static readonly ColumnKind TagSequence = new("a vector of key type (UInt32) with a KeyValues annotation of text, or a vector of text",
        type => type is VectorDataViewType { ItemType: TextDataViewType } || KeyVector._accepts(type),
        shape => shape.Kind != SchemaShape.Column.VectorKind.Scalar && (shape.IsKey || shape.ItemType is TextDataViewType));

    private readonly Func<DataViewType, bool> _accepts;
    private readonly Func<SchemaShape.Column, bool> _acceptsShape;

    private ColumnKind(string expected, Func<DataViewType, bool> accepts, Func<SchemaShape.Column, bool> acceptsShape)
    {
        Expected = expected;
        _accepts = accepts;
        _acceptsShape = acceptsShape;
    }

    /// <summary>The expected type in words, as errors say it.</summary>
    public string Expected { get; }

    /// <summary>The column <paramref name="name"/> of <paramref name="schema"/>, checked.</summary>
    /// <param name="schema">The schema to look in.</param>
    /// <param name="name">The column's name.</param>
    /// <param name="optionName">The option or argument that named the column (the exception's parameter name).</param>
    /// <exception cref="ArgumentOutOfRangeException">The column is missing or of another type.</exception>
    public DataViewSchema.Column Find(DataViewSchema schema, string name, string optionName)
    {
        var column = schema.GetColumnOrNull(name) ?? throw NotFound(name, optionName, schema.Where(c => !c.IsHidden).Select(c => c.Name));
        if (!_accepts(column.Type))
            throw WrongType(name, optionName, column.Type.ToString() ?? column.Type.GetType().Name);
        return column;
    }

    /// <inheritdoc cref="Find(DataViewSchema, string, string)"/>
    public SchemaShape.Column Find(SchemaShape schema, string name, string optionName)
    {
        if (!schema.TryFindColumn(name, out var column))
            throw NotFound(name, optionName, schema.Select(c => c.Name));
        if (!_acceptsShape(column))
            throw WrongType(name, optionName, column.GetTypeString());
        return column;
    }

    private ArgumentOutOfRangeException NotFound(string name, string optionName, IEnumerable<string> available) =>
        new(optionName, $"Column '{name}' was not found in the input data; expected {Expected} (named by {optionName}). " +
            $"Available columns: {string.Join(", ", available.Select(n => $"'{n}'"))}.");

    private ArgumentOutOfRangeException WrongType(string name, string optionName, string actual) =>
        new(optionName, $"Column '{name}' has type {actual}; expected {Expected} (named by {optionName}).");
}
