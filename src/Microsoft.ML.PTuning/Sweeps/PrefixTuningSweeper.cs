using System.Reflection;
using Microsoft.ML.PTuning.Runtime;
using Microsoft.ML.PTuning.Sweeps;
using Microsoft.ML.Runtime;
using Microsoft.ML.SearchSpace;

namespace Microsoft.ML.PTuning;

/// <summary>
/// Searches prefix length and learning rate for prefix tuning, the hyper-parameters P-Tuning v2 is most sensitive to.
/// All trials share one loaded, frozen backbone. With <see cref="SweepStrategy.SuccessiveHalving"/> weak trials stop
/// after a few epochs. The default search space comes from the options' <c>[Choice]</c>/<c>[Range]</c> attributes.
/// </summary>
/// <example>
/// <code>
/// var sweeper = new PrefixTuningSweeper(mlContext, options, new PrefixTuningSweepOptions { PrefixLengths = new[] { 4, 16, 64 } });
/// PrefixTuningSweepResult result = sweeper.Run(trainData, validationData);
/// mlContext.Model.SaveAtomically(result.BestModel, trainData.Schema, "best.zip");   // never leaves a half-written zip
/// result.SaveReport("sweep-report");
/// </code>
/// </example>
public sealed class PrefixTuningSweeper
{
    private readonly IHost _host;
    private readonly PrefixTuningOptions _baseOptions;
    private readonly PrefixTuningSweepOptions _sweep;

    /// <summary>A sweep for text classification.</summary>
    public PrefixTuningSweeper(MLContext mlContext, PrefixTuningTextClassificationOptions baseOptions, PrefixTuningSweepOptions sweepOptions)
        : this(mlContext, (PrefixTuningOptions)baseOptions, sweepOptions)
    {
    }

    /// <summary>A sweep for token classification.</summary>
    public PrefixTuningSweeper(MLContext mlContext, PrefixTuningTokenClassificationOptions baseOptions, PrefixTuningSweepOptions sweepOptions)
        : this(mlContext, (PrefixTuningOptions)baseOptions, sweepOptions)
    {
    }

    private PrefixTuningSweeper(MLContext mlContext, PrefixTuningOptions baseOptions, PrefixTuningSweepOptions sweepOptions)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        _baseOptions = baseOptions ?? throw new ArgumentNullException(nameof(baseOptions));
        _sweep = sweepOptions ?? throw new ArgumentNullException(nameof(sweepOptions));
        if (baseOptions.Method is not (TuningMethod.PrefixTuning or TuningMethod.PromptTuning or TuningMethod.PTuningV1))
        {
            throw new ArgumentException($"A prefix-length sweep needs Method PrefixTuning, PromptTuning or PTuningV1, not {baseOptions.Method}" +
                (baseOptions.Method == TuningMethod.HandcraftedPrompt ? " (HandcraftedPrompt trains nothing: Fit it once and evaluate)." : "."), nameof(baseOptions));
        }
        // P-Tuning v1's swept length is that of the template's {prompt} slot: without one every trial would be the same model.
        if (baseOptions is PrefixTuningTextClassificationOptions { Method: TuningMethod.PTuningV1, PromptTemplate: string template }
            && !Tokenization.PromptTemplate.UsesPrefixLength(template))
        {
            throw new ArgumentException("A prompt-length sweep of PTuningV1 needs a {prompt} slot in PromptTemplate (its length is the swept PrefixLength); " +
                "{prompt:N} slots keep their N.", nameof(baseOptions));
        }
        if (sweepOptions.ReductionFactor < 2)
            throw new ArgumentOutOfRangeException(nameof(sweepOptions), sweepOptions.ReductionFactor, "ReductionFactor must be at least 2.");
        if (sweepOptions.MaxTrials < 0)
            throw new ArgumentOutOfRangeException(nameof(sweepOptions), sweepOptions.MaxTrials, "MaxTrials must be 0 (all) or positive.");
        _host = ((IHostEnvironment)mlContext).Register(nameof(PrefixTuningSweeper));
    }

    /// <summary>The prefix lengths and learning rates this sweep will combine.</summary>
    public (IReadOnlyList<int> PrefixLengths, IReadOnlyList<double> LearningRates) SearchSpace =>
        (_sweep.PrefixLengths ?? DefaultPrefixLengths(), _sweep.LearningRates ?? DefaultLearningRates());

    /// <summary>The clock the time budget and the reported times are measured with (tests substitute a fake one).</summary>
    internal TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Runs the sweep: trains on <paramref name="train"/>, ranks trials on <paramref name="validation"/>.</summary>
    /// <exception cref="TimeoutException">The time budget ran out before any trial finished an epoch.</exception>
    /// <exception cref="OperationCanceledException">The sweep options' cancellation token was cancelled.</exception>
    public PrefixTuningSweepResult Run(IDataView train, IDataView validation)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        _sweep.CancellationToken.ThrowIfCancellationRequested();
        _baseOptions.Validate();
        using var channel = _host.Start("Sweep");
        var clock = new SweepClock(TimeProvider);
        var trials = ChooseTrials();
        int loadsBefore = BaseModel.LoadCountOf(_baseOptions.BaseModelPath!);
        channel.Info($"Sweep: {trials.Count} trials ({_sweep.Strategy}) over prefix lengths {string.Join(", ", trials.Select(t => t.PrefixLength).Distinct())} " +
            $"and learning rates {string.Join(", ", trials.Select(t => t.LearningRate.ToString("G3")).Distinct())}.");

        var runner = new TrialRunner(_host, _baseOptions, _sweep, train, validation, trials, clock, message => channel.Info(message));
        try
        {
            if (_sweep.Strategy == SweepStrategy.SuccessiveHalving)
                runner.RunSuccessiveHalving();
            else
                runner.RunEachToTheEnd();
            runner.MarkUnfinished();

            var best = runner.BestAlive() ?? throw new TimeoutException(
                $"The sweep's time budget ({_sweep.TimeBudget}) ran out before any trial finished an epoch; raise TimeBudget.");
            var model = runner.Finish(best);
            channel.Info($"Sweep done in {clock.Elapsed}: best {best}.");
            int loads = BaseModel.LoadCountOf(_baseOptions.BaseModelPath!) - loadsBefore;
            return new PrefixTuningSweepResult(trials, best, model, clock.Elapsed, loads, _sweep.Strategy);
        }
        finally
        {
            runner.Dispose();
        }
    }

    private List<PrefixTuningTrial> ChooseTrials()
    {
        var (lengths, rates) = SearchSpace;
        if (lengths.Count == 0 || lengths.Any(l => l < 1))
            throw new ArgumentException("PrefixLengths must hold at least one length, all positive.", nameof(PrefixTuningSweepOptions.PrefixLengths));
        if (rates.Count == 0 || rates.Any(r => !(r > 0) || double.IsInfinity(r)))
            throw new ArgumentException("LearningRates must hold at least one rate, all positive and finite.", nameof(PrefixTuningSweepOptions.LearningRates));
        var combinations = lengths.SelectMany(l => rates.Select(r => (Length: l, Rate: r))).Distinct().ToList();
        if (_sweep.Strategy == SweepStrategy.Random)
        {
            var random = new Random(SweepSeed);
            int count = _sweep.MaxTrials > 0 ? _sweep.MaxTrials : 8;
            combinations = combinations.OrderBy(_ => random.Next()).Take(count).ToList();
        }
        else if (_sweep.MaxTrials > 0)
        {
            combinations = combinations.Take(_sweep.MaxTrials).ToList();
        }
        return combinations.Select((c, i) => new PrefixTuningTrial(i, c.Length, c.Rate)).ToList();
    }

    internal int SweepSeed => _sweep.Seed ?? _baseOptions.Seed ?? 0;

    private static PropertyInfo OptionProperty(string name) =>
        typeof(PrefixTuningOptions).GetProperty(name) ?? throw new MissingMemberException(nameof(PrefixTuningOptions), name);

    /// <summary>The candidates of the <c>[Choice]</c> attribute on <see cref="PrefixTuningOptions.PrefixLength"/>.</summary>
    internal static IReadOnlyList<int> DefaultPrefixLengths()
    {
        var choice = OptionProperty(nameof(PrefixTuningOptions.PrefixLength)).GetCustomAttribute<ChoiceAttribute>()
            ?? throw new InvalidOperationException("PrefixTuningOptions.PrefixLength has no [Choice] attribute.");
        return choice.Candidates.Select(Convert.ToInt32).ToArray();
    }

    /// <summary>Three points of the <c>[Range]</c> on <see cref="PrefixTuningOptions.LearningRate"/>: init ÷ 3, init, init × 3, clamped.</summary>
    internal static IReadOnlyList<double> DefaultLearningRates()
    {
        var range = OptionProperty(nameof(PrefixTuningOptions.LearningRate)).GetCustomAttribute<RangeAttribute>()
            ?? throw new InvalidOperationException("PrefixTuningOptions.LearningRate has no [Range] attribute.");
        double min = Convert.ToDouble(range.Min), max = Convert.ToDouble(range.Max), init = Convert.ToDouble(range.Init);
        return new[] { init / 3, init, init * 3 }.Select(r => Math.Clamp(r, min, max)).Distinct().ToArray();
    }
}
