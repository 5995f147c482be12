using Microsoft.ML.PTuning.Runtime;

namespace Microsoft.ML.PTuning.Transforms;

/// <summary>
/// Which columns a task reads and adds, given its column names: the one description the estimator's schema check,
/// training's data reader and the transformer all take (<see cref="TextClassificationTask.Rules"/>,
/// <see cref="TokenClassificationTask.Rules"/>).
/// </summary>
/// <param name="Label">The label column training reads.</param>
/// <param name="Inputs">The input columns training and prediction read.</param>
/// <param name="Outputs">The columns the transformer adds.</param>
internal sealed record TaskColumnRules(
    Func<TaskColumns, ColumnUse> Label,
    Func<TaskColumns, IReadOnlyList<ColumnUse>> Inputs,
    Func<TaskColumns, IEnumerable<OutputColumn>> Outputs);
