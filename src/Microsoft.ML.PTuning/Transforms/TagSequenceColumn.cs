using Microsoft.ML.Data;

namespace Microsoft.ML.PTuning.Transforms;

/// <summary>
/// Reads a column of tag sequences as strings: a vector of key type whose KeyValues annotation names the tags
/// (what <c>MapValueToKey</c> makes of a <c>string[]</c> column), or a vector of text.
/// </summary>
/// <remarks>
/// Keys are mapped to their tag names, so two key columns compare by name even when their key cardinalities or
/// orders differ. The missing key (0) reads as "O": a token with no known tag is outside every entity.
/// </remarks>
internal sealed class TagSequenceColumn
{
    private readonly string[]? _keyNames;

    private TagSequenceColumn(DataViewSchema.Column column, string[]? keyNames)
    {
        Column = column;
        _keyNames = keyNames;
    }

    /// <summary>The bound column.</summary>
    public DataViewSchema.Column Column { get; }

    /// <summary>Finds and checks the column; <paramref name="parameterName"/> names the argument that gave its name.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The column is missing or has another type; the message names it, the expected and the actual type.</exception>
    public static TagSequenceColumn Bind(DataViewSchema schema, string columnName, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(schema);
        if (string.IsNullOrEmpty(columnName))
        {
            throw new ArgumentException("A column name is required.", parameterName);
        }

        DataViewSchema.Column column = ColumnKind.TagSequence.Find(schema, columnName, parameterName);
        if (column.Type is VectorDataViewType { ItemType: TextDataViewType })
        {
            return new TagSequenceColumn(column, null);
        }

        return new TagSequenceColumn(column, ReadKeyNames(column, parameterName));
    }

    private static string[] ReadKeyNames(DataViewSchema.Column column, string parameterName)
    {
        if (KeyColumns.Names(column) is string[] names)
            return names;
        DataViewSchema.Column? annotation = column.Annotations.Schema.GetColumnOrNull(AnnotationUtils.Kinds.KeyValues);
        string actual = annotation is null ? "no KeyValues annotation" : $"a KeyValues annotation of type {annotation.Value.Type}";
        throw new ArgumentOutOfRangeException(parameterName,
            $"Column '{column.Name}' is a vector of keys with {actual}; expected {ColumnKind.TagSequence.Expected}, " +
            "so that keys can be mapped to tag names (MapValueToKey over a string[] column makes such a column).");
    }

    /// <summary>Returns a reader of the current row's tags; the cursor must include this column.</summary>
    public Func<long, string[]> CreateGetter(DataViewRowCursor cursor)
    {
        if (_keyNames is null)
        {
            ValueGetter<VBuffer<ReadOnlyMemory<char>>> getText = cursor.GetGetter<VBuffer<ReadOnlyMemory<char>>>(Column);
            var text = default(VBuffer<ReadOnlyMemory<char>>);
            return _ =>
            {
                getText(ref text);
                return text.DenseValues().Select(v => v.ToString()).ToArray();
            };
        }

        ValueGetter<VBuffer<uint>> getKeys = cursor.GetGetter<VBuffer<uint>>(Column);
        var keys = default(VBuffer<uint>);
        return row =>
        {
            getKeys(ref keys);
            var tags = new string[keys.Length];
            int i = 0;
            foreach (uint k in keys.DenseValues())
            {
                tags[i++] = NameOf(k, row);
            }

            return tags;
        };
    }

    private string NameOf(uint key, long row)
    {
        if (key == 0)
        {
            return "O";
        }

        if (key > _keyNames!.Length)
        {
            throw new InvalidOperationException(
                $"Row {row} of column '{Column.Name}' holds key {key}, but its KeyValues annotation names only {_keyNames.Length} tags.");
        }

        return _keyNames[key - 1];
    }
}
