using Microsoft.ML.Data;

namespace Microsoft.ML.PTuning;

/// <summary>Input-column checks with errors that name the column, the option that named it, and the types involved.</summary>
internal static class ColumnChecks
{
    public static DataViewSchema.Column Find(DataViewSchema schema, string name, string optionName)
    {
        var column = schema.GetColumnOrNull(name);
        if (column == null)
            throw new ArgumentOutOfRangeException(optionName,
                $"Column '{name}' ({optionName}) was not found in the input data. Available columns: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => $"'{c.Name}'"))}.");
        return column.Value;
    }

    public static DataViewSchema.Column RequireText(DataViewSchema schema, string name, string optionName)
    {
        var column = Find(schema, name, optionName);
        if (column.Type is not TextDataViewType)
            throw new ArgumentOutOfRangeException(optionName,
                $"Column '{name}' ({optionName}) must be of type Text (String), but is {column.Type}.");
        return column;
    }

    /// <summary>A key-typed scalar label (use MapValueToKey on a text or numeric label).</summary>
    public static DataViewSchema.Column RequireKey(DataViewSchema schema, string name, string optionName)
    {
        var column = Find(schema, name, optionName);
        if (column.Type is not KeyDataViewType key || key.RawType != typeof(uint))
            throw new ArgumentOutOfRangeException(optionName,
                $"Column '{name}' ({optionName}) must be a key type (UInt32 key, e.g. from MapValueToKey), but is {column.Type}.");
        return column;
    }

    /// <summary>A vector of keys, one per word (use MapValueToKey on a string[] column).</summary>
    public static DataViewSchema.Column RequireKeyVector(DataViewSchema schema, string name, string optionName)
    {
        var column = Find(schema, name, optionName);
        if (column.Type is not VectorDataViewType vector || vector.ItemType is not KeyDataViewType key || key.RawType != typeof(uint))
            throw new ArgumentOutOfRangeException(optionName,
                $"Column '{name}' ({optionName}) must be a vector of keys (UInt32 keys, e.g. MapValueToKey over a string[] column), but is {column.Type}.");
        return column;
    }

    /// <summary>The key values (class names) of a key or key-vector column, or null when it has none.</summary>
    public static string[]? KeyValues(DataViewSchema.Column column)
    {
        var type = column.Annotations.Schema.GetColumnOrNull(AnnotationUtils.Kinds.KeyValues)?.Type;
        if (type is not VectorDataViewType { ItemType: TextDataViewType })
            return null;
        VBuffer<ReadOnlyMemory<char>> values = default;
        column.GetKeyValues(ref values);
        return values.DenseValues().Select(v => v.ToString()).ToArray();
    }

    /// <summary>The key count of a key or key-vector column.</summary>
    public static int KeyCount(DataViewSchema.Column column)
    {
        var key = (KeyDataViewType)(column.Type is VectorDataViewType vector ? vector.ItemType : column.Type);
        if (key.Count == 0 || key.Count > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(column), $"Column '{column.Name}' has a key type without a known count ({key.Count}).");
        return (int)key.Count;
    }

    /// <summary>Adds a key-typed output column with the given class names as key values (if any).</summary>
    public static DataViewSchema.Annotations KeyValuesAnnotation(string[]? classNames)
    {
        var builder = new DataViewSchema.Annotations.Builder();
        if (classNames != null)
        {
            var values = new VBuffer<ReadOnlyMemory<char>>(classNames.Length, classNames.Select(n => n.AsMemory()).ToArray());
            builder.AddKeyValues(classNames.Length, TextDataViewType.Instance, (ref VBuffer<ReadOnlyMemory<char>> dst) => values.CopyTo(ref dst));
        }
        return builder.ToAnnotations();
    }
}
