using Microsoft.ML.Data;

namespace Microsoft.ML.PTuning.Transforms;

/// <summary>An input column a task reads: its name, the option that named it, and what it must be.</summary>
internal sealed record ColumnUse(string Name, string OptionName, ColumnKind Kind)
{
    /// <summary>The column in a data view's schema, checked (<see cref="ColumnKind.Find(DataViewSchema, string, string)"/>).</summary>
    public DataViewSchema.Column Find(DataViewSchema schema) => Kind.Find(schema, Name, OptionName);

    /// <summary>The column in an estimator's input shape, checked.</summary>
    public SchemaShape.Column Find(SchemaShape schema) => Kind.Find(schema, Name, OptionName);
}
