using Microsoft.ML.Data;

namespace Microsoft.ML.PTuning.Transforms;

/// <summary>
/// A column a task adds, declared once: the estimator's <c>GetOutputSchema</c> promises it (<see cref="ToShape"/>)
/// and the transformer adds it (<see cref="AddTo"/>) from the same declaration.
/// </summary>
internal abstract class OutputColumn
{
    private protected OutputColumn(string name, OutputShape shape)
    {
        Name = name;
        Shape = shape;
    }

    public string Name { get; }

    public OutputShape Shape { get; }

    /// <summary>
    /// The column as the estimator promises it; key columns carry the label's annotations (its key values), probabilities
    /// slot names when the label has key values.
    /// </summary>
    public SchemaShape.Column ToShape(SchemaShape.Column label) => Shape switch
    {
        OutputShape.ClassKey => new(Name, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, true, label.Annotations),
        OutputShape.ClassKeyPerWord => new(Name, SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.UInt32, true, label.Annotations),
        _ => new(Name, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false, KeyColumns.SlotNamesShape(label)),
    };

    /// <summary>
    /// Adds the column, typed for <paramref name="classCount"/> classes, with the class names as key values (keys) or as
    /// slot names (probabilities).
    /// </summary>
    public void AddTo(DataViewSchema.Builder builder, int classCount, string[]? classNames)
    {
        var key = new KeyDataViewType(typeof(uint), classCount);
        switch (Shape)
        {
            case OutputShape.ClassKey:
                builder.AddColumn(Name, key, KeyColumns.NamesAnnotation(classNames));
                break;
            case OutputShape.ClassKeyPerWord:
                builder.AddColumn(Name, new VectorDataViewType(key), KeyColumns.NamesAnnotation(classNames));
                break;
            default:
                builder.AddColumn(Name, new VectorDataViewType(NumberDataViewType.Single, classCount), KeyColumns.SlotNamesAnnotation(classNames));
                break;
        }
    }

    /// <summary>The estimator's output shape: <paramref name="input"/> with <paramref name="added"/> (which replace same-named columns).</summary>
    public static SchemaShape Append(SchemaShape input, SchemaShape.Column label, IEnumerable<OutputColumn> added)
    {
        var columns = input.ToDictionary(c => c.Name);
        foreach (var column in added)
            columns[column.Name] = column.ToShape(label);
        return new SchemaShape(columns.Values);
    }
}
