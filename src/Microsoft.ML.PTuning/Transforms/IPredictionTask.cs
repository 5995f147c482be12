using Microsoft.ML.Data;

namespace Microsoft.ML.PTuning.Transforms;

/// <summary>What the transformer needs of its task, whatever the task's input and output types.</summary>
internal interface IPredictionTask
{
    /// <summary>The input schema plus the output columns (which hide input columns of the same name).</summary>
    DataViewSchema OutputSchema(DataViewSchema inputSchema);

    /// <summary>The transformed data: predictions computed in batches as rows are read.</summary>
    IDataView Transform(IDataView input);

    /// <summary>Row-by-row mapping for <c>PredictionEngine</c>.</summary>
    IRowToRowMapper CreateRowMapper(DataViewSchema inputSchema);
}
