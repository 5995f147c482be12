using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.PTuning;

/// <summary>What both prefix-tuning estimators share: the options and the fit itself.</summary>
/// <typeparam name="TOptions">The task's options type.</typeparam>
public abstract class PrefixTuningEstimator<TOptions> : IEstimator<PrefixTuningTransformer>
    where TOptions : PrefixTuningOptions
{
    private readonly IHost _host;

    private protected PrefixTuningEstimator(IHostEnvironment env, TOptions options)
    {
        _host = env.Register(GetType().Name);
        Options = options ?? throw new ArgumentNullException(nameof(options));
    }

    /// <summary>The options this estimator trains with.</summary>
    public TOptions Options { get; }

    /// <summary>Trains on <paramref name="input"/> (and <see cref="PrefixTuningOptions.ValidationSet"/> if set).</summary>
    public PrefixTuningTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var channel = _host.Start("Fit");
        using var session = TrainingSession.Start(_host, Options, input, message => channel.Info(message));
        session.Trainer.Run();
        return session.Finish();
    }

    /// <inheritdoc/>
    public abstract SchemaShape GetOutputSchema(SchemaShape inputSchema);
}

/// <summary>
/// Trains a prefix-tuned text classifier (single sentences or pairs). Create it with
/// <c>mlContext.Transforms.Text.PrefixTuning(new PrefixTuningTextClassificationOptions { ... })</c>.
/// </summary>
public sealed class PrefixTuningTextClassificationEstimator : PrefixTuningEstimator<PrefixTuningTextClassificationOptions>
{
    internal PrefixTuningTextClassificationEstimator(IHostEnvironment env, PrefixTuningTextClassificationOptions options)
        : base(env, options)
    {
    }

    /// <inheritdoc/>
    public override SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        Options.Validate();
        var label = EstimatorCore.RequireColumn(inputSchema, Options.LabelColumnName, nameof(Options.LabelColumnName),
            c => c.Kind == SchemaShape.Column.VectorKind.Scalar && c.IsKey, "a key (use MapValueToKey)");
        EstimatorCore.RequireText(inputSchema, Options.Sentence1ColumnName, nameof(Options.Sentence1ColumnName));
        if (Options.Sentence2ColumnName != null)
            EstimatorCore.RequireText(inputSchema, Options.Sentence2ColumnName, nameof(Options.Sentence2ColumnName));
        return EstimatorCore.WithColumns(inputSchema,
            new SchemaShape.Column(Options.PredictionColumnName, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, true, label.Annotations),
            new SchemaShape.Column(Options.ScoreColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false));
    }
}

/// <summary>
/// Trains a prefix-tuned token classifier (named-entity recognition). Create it with
/// <c>mlContext.Transforms.Text.PrefixTuning(new PrefixTuningTokenClassificationOptions { ... })</c>.
/// </summary>
public sealed class PrefixTuningTokenClassificationEstimator : PrefixTuningEstimator<PrefixTuningTokenClassificationOptions>
{
    internal PrefixTuningTokenClassificationEstimator(IHostEnvironment env, PrefixTuningTokenClassificationOptions options)
        : base(env, options)
    {
    }

    /// <inheritdoc/>
    public override SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        Options.Validate();
        var label = EstimatorCore.RequireColumn(inputSchema, Options.LabelColumnName, nameof(Options.LabelColumnName),
            c => c.Kind == SchemaShape.Column.VectorKind.VariableVector && c.IsKey, "a variable-length vector of keys (MapValueToKey over string[])");
        EstimatorCore.RequireText(inputSchema, Options.SentenceColumnName, nameof(Options.SentenceColumnName));
        return EstimatorCore.WithColumns(inputSchema,
            new SchemaShape.Column(Options.PredictionColumnName, SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.UInt32, true, label.Annotations));
    }
}

/// <summary>Schema-shape checks the estimators share.</summary>
internal static class EstimatorCore
{
    public static SchemaShape.Column RequireColumn(SchemaShape schema, string name, string optionName,
        Func<SchemaShape.Column, bool> isValid, string expected)
    {
        if (!schema.TryFindColumn(name, out var column))
            throw new ArgumentOutOfRangeException(optionName, $"Column '{name}' ({optionName}) was not found in the input schema.");
        if (!isValid(column))
            throw new ArgumentOutOfRangeException(optionName, $"Column '{name}' ({optionName}) must be {expected}, but is {column.GetTypeString()}.");
        return column;
    }

    public static SchemaShape.Column RequireText(SchemaShape schema, string name, string optionName) =>
        RequireColumn(schema, name, optionName, c => c.Kind == SchemaShape.Column.VectorKind.Scalar && c.ItemType is TextDataViewType, "Text (String)");

    public static SchemaShape WithColumns(SchemaShape input, params SchemaShape.Column[] added)
    {
        var columns = input.ToDictionary(c => c.Name);
        foreach (var column in added)
            columns[column.Name] = column;
        return new SchemaShape(columns.Values);
    }
}
