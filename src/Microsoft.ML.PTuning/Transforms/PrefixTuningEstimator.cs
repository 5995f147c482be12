using Microsoft.ML.PTuning.Transforms;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.PTuning;

/// <summary>What both prefix-tuning estimators share: the options and the fit itself.</summary>
/// <typeparam name="TOptions">The task's options type.</typeparam>
public abstract class PrefixTuningEstimator<TOptions> : IEstimator<PrefixTuningTransformer>
    where TOptions : PrefixTuningOptions
{
    // The context itself, not only a host registered from it: a host copies MLContext.GpuDeviceId and FallbackToCpu when
    // it is registered, so settings made after the estimator was created would be missed.
    private readonly IHostEnvironment _env;
    private readonly IHost _host;
    private readonly TaskColumnRules _rules;

    private protected PrefixTuningEstimator(IHostEnvironment env, TOptions options, TaskColumnRules rules)
    {
        _env = env;
        _host = env.Register(GetType().Name);
        Options = options ?? throw new ArgumentNullException(nameof(options));
        _rules = rules;
    }

    /// <summary>The options this estimator trains with.</summary>
    public TOptions Options { get; }

    /// <summary>
    /// Trains on <paramref name="input"/> (and <see cref="PrefixTuningOptions.ValidationSet"/> if set). Stops with an
    /// <see cref="OperationCanceledException"/> between steps when <see cref="PrefixTuningOptions.CancellationToken"/> is
    /// cancelled or the MLContext's execution is cancelled (what AutoML does to end a trial).
    /// </summary>
    public PrefixTuningTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var channel = _host.Start("Fit");
        using var run = TrainingRun.Start(_env, Options, input, message => channel.Info(message));
        run.Train();
        return run.Finish();
    }

    /// <inheritdoc/>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        Options.Validate();
        var columns = TrainingRun.ColumnsOf(Options);
        var label = _rules.Label(columns).Find(inputSchema);
        foreach (var input in _rules.Inputs(columns))
            input.Find(inputSchema);
        return OutputColumn.Append(inputSchema, label, _rules.Outputs(columns));
    }
}
