using Microsoft.ML.Data;

namespace Microsoft.ML.PTuning.Transforms;

/// <summary>Reading and writing the class information of key columns: their count and their names (KeyValues).</summary>
internal static class KeyColumns
{
    /// <summary>The key values (class names) of a key or key-vector column, or null when it has none.</summary>
    public static string[]? Names(DataViewSchema.Column column)
    {
        var type = column.Annotations.Schema.GetColumnOrNull(AnnotationUtils.Kinds.KeyValues)?.Type;
        if (type is not VectorDataViewType { ItemType: TextDataViewType })
            return null;
        VBuffer<ReadOnlyMemory<char>> values = default;
        column.GetKeyValues(ref values);
        return values.DenseValues().Select(v => v.ToString()).ToArray();
    }

    /// <summary>The key count of a key or key-vector column.</summary>
    public static int Count(DataViewSchema.Column column)
    {
        var key = (KeyDataViewType)(column.Type is VectorDataViewType vector ? vector.ItemType : column.Type);
        if (key.Count == 0 || key.Count > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(column), $"Column '{column.Name}' has a key type without a known count ({key.Count}).");
        return (int)key.Count;
    }

    /// <summary>A KeyValues annotation holding <paramref name="classNames"/>, or no annotation when there are none.</summary>
    public static DataViewSchema.Annotations NamesAnnotation(string[]? classNames)
    {
        var builder = new DataViewSchema.Annotations.Builder();
        if (classNames != null)
        {
            var values = new VBuffer<ReadOnlyMemory<char>>(classNames.Length, classNames.Select(n => n.AsMemory()).ToArray());
            builder.AddKeyValues(classNames.Length, TextDataViewType.Instance, (ref VBuffer<ReadOnlyMemory<char>> dst) => values.CopyTo(ref dst));
        }
        return builder.ToAnnotations();
    }

    /// <summary>
    /// A SlotNames annotation holding <paramref name="classNames"/> (what ML.NET's multiclass trainers put on their score
    /// column, so each probability is named by its class), or no annotation when there are none.
    /// </summary>
    public static DataViewSchema.Annotations SlotNamesAnnotation(string[]? classNames)
    {
        var builder = new DataViewSchema.Annotations.Builder();
        if (classNames != null)
        {
            var values = new VBuffer<ReadOnlyMemory<char>>(classNames.Length, classNames.Select(n => n.AsMemory()).ToArray());
            builder.AddSlotNames(classNames.Length, (ref VBuffer<ReadOnlyMemory<char>> dst) => values.CopyTo(ref dst));
        }
        return builder.ToAnnotations();
    }

    /// <summary>The SlotNames annotation as an estimator promises it, when <paramref name="label"/> has key values.</summary>
    public static SchemaShape SlotNamesShape(SchemaShape.Column label) =>
        label.Annotations.TryFindColumn(AnnotationUtils.Kinds.KeyValues, out _)
            ? new SchemaShape(new[] { new SchemaShape.Column(AnnotationUtils.Kinds.SlotNames, SchemaShape.Column.VectorKind.Vector, TextDataViewType.Instance, false) })
            : new SchemaShape(Array.Empty<SchemaShape.Column>());
}
