using Microsoft.ML.PTuning.Training;
using Microsoft.ML.PTuning.Transforms;
using Microsoft.ML.Runtime;
using TorchSharp;

namespace Microsoft.ML.PTuning.Sweeps;

/// <summary>
/// Runs a sweep's trials as <see cref="TrainingRun"/>s, an epoch at a time, and keeps alive only the runs that
/// may still produce the best model (so memory holds at most the surviving adapters, never a second backbone).
/// Each trial keeps its own state of torch's CPU random generator (dropout), so a trial trains the same whatever the
/// order its epochs are interleaved with other trials': successive halving's first epochs of a trial equal the grid's.
/// With a checkpoint folder each trial resumes from its own subfolder; epochs a resumed trial had already trained are
/// replayed from its history (not trained again), one at a time as the schedule asks for them, so every ranking decision
/// sees exactly the epochs it saw in the sweep that was interrupted.
/// </summary>
internal sealed class TrialRunner : IDisposable
{
    private readonly IHostEnvironment _env;
    private readonly PrefixTuningOptions _baseOptions;
    private readonly PrefixTuningSweepOptions _sweep;
    private readonly IDataView _train;
    private readonly IDataView _validation;
    private readonly IReadOnlyList<PrefixTuningTrial> _trials;
    private readonly SweepClock _clock;
    private readonly Action<string> _log;
    private readonly Dictionary<PrefixTuningTrial, TrainingRun> _alive = new();
    private readonly Dictionary<PrefixTuningTrial, torch.Tensor> _randomStates = new();
    private int _totalEpochs;

    public TrialRunner(IHostEnvironment env, PrefixTuningOptions baseOptions, PrefixTuningSweepOptions sweep, IDataView train,
        IDataView validation, IReadOnlyList<PrefixTuningTrial> trials, SweepClock clock, Action<string> log)
    {
        _env = env;
        _baseOptions = baseOptions;
        _sweep = sweep;
        _train = train;
        _validation = validation;
        _trials = trials;
        _clock = clock;
        _log = log;
    }

    private bool BudgetSpent => _sweep.TimeBudget is TimeSpan budget && _clock.Elapsed >= budget;

    /// <summary>Grid and random search: each trial to its end; only the best so far stays alive.</summary>
    public void RunEachToTheEnd()
    {
        foreach (var trial in _trials)
        {
            if (BudgetSpent)
                break;
            TrainUntil(trial, int.MaxValue);
            var best = BestAlive();
            foreach (var other in _alive.Keys.Where(t => t != best).ToList())
                Retire(other, other.Status);
        }
    }

    /// <summary>
    /// Successive halving: rung k trains the survivors to r_k = MaxEpochs · η^(k−s) epochs (η the reduction factor), then
    /// keeps the best ⌈n/η⌉; the last rung trains its survivors to MaxEpochs (or early stopping). The number of
    /// eliminating rungs s is ⌈log_η n⌉ but no more than ⌊log_η MaxEpochs⌋, so every rung trains at least one epoch
    /// more than the one before: cutting twice on the same epochs would rank on the same evidence twice.
    /// </summary>
    public void RunSuccessiveHalving()
    {
        int eta = _sweep.ReductionFactor;
        int maxEpochs = _baseOptions.MaxEpochs;
        int rungs = Math.Min(CeilingLog(_trials.Count, eta), FloorLog(maxEpochs, eta));
        var survivors = _trials.ToList();
        for (int rung = 0; rung <= rungs && survivors.Count > 0; rung++)
        {
            int epochs = rung == rungs ? maxEpochs : Math.Max(1, (int)Math.Round(maxEpochs * Math.Pow(eta, rung - rungs)));
            foreach (var trial in survivors)
            {
                if (BudgetSpent)
                    return;
                TrainUntil(trial, epochs);
            }
            if (rung == rungs)
                break;
            int keep = Math.Max(1, (int)Math.Ceiling(survivors.Count / (double)eta));
            var ranked = survivors.Where(t => t.EpochsRun > 0).OrderByDescending(t => t.BestMetric).ThenBy(t => t.Index).ToList();
            foreach (var dropped in ranked.Skip(keep))
                Retire(dropped, TrialStatus.Halved);
            survivors = ranked.Take(keep).ToList();
            _log($"Rung {rung + 1}: kept {string.Join("; ", survivors)}.");
        }
    }

    /// <summary>The least k with η^k ≥ n.</summary>
    internal static int CeilingLog(int n, int eta)
    {
        int k = 0;
        for (long power = 1; power < n; power *= eta)
            k++;
        return k;
    }

    /// <summary>The greatest k with η^k ≤ n (n ≥ 1).</summary>
    internal static int FloorLog(int n, int eta)
    {
        int k = 0;
        for (long power = eta; power <= n; power *= eta)
            k++;
        return k;
    }

    /// <summary>Gives trials that stopped between rungs because the time budget ran out that status.</summary>
    public void MarkUnfinished()
    {
        foreach (var trial in _trials.Where(t => t.EpochsRun > 0 && t.Status == TrialStatus.NotRun))
            trial.Status = TrialStatus.TimeBudget;
    }

    /// <summary>The best trial whose run is still alive, or null.</summary>
    public PrefixTuningTrial? BestAlive() =>
        _alive.Keys.Where(t => t.EpochsRun > 0).OrderByDescending(t => t.BestMetric).ThenBy(t => t.Index).FirstOrDefault();

    /// <summary>Hands the trial's trained model over (restored to its best epoch).</summary>
    public PrefixTuningTransformer Finish(PrefixTuningTrial trial)
    {
        var run = _alive[trial];
        _alive.Remove(trial);
        var model = run.Finish();
        run.Dispose();
        return model;
    }

    private void TrainUntil(PrefixTuningTrial trial, int epochs)
    {
        var started = _clock.Elapsed;
        if (!_alive.TryGetValue(trial, out var run))
        {
            var options = _baseOptions.Clone();
            options.PrefixLength = trial.PrefixLength;
            options.LearningRate = trial.LearningRate;
            options.ValidationSet = _validation;
            options.Seed = _sweep.Seed ?? _baseOptions.Seed ?? 0;
            options.Progress = null;
            options.CancellationToken = _sweep.CancellationToken;
            options.CheckpointFolder = _sweep.CheckpointFolder == null ? null : Path.Combine(_sweep.CheckpointFolder, FolderName(trial));
            run = TrainingRun.Start(_env, options, _train, options.CheckpointFolder == null ? null : _log, MetricOf(_sweep.Metric)); // seeds torch's generator
            _alive[trial] = run;
            trial.TrainableParameters = run.Trainer.TrainableParameterCount;
        }
        else if (_randomStates.Remove(trial, out var state))
        {
            using (state)
                torch.random.set_rng_state(state);
        }

        var trainer = run.Trainer;
        try
        {
            while (trial.EpochsRun < epochs && (trial.EpochsRun < trainer.History.Count || !trainer.IsFinished))
            {
                _sweep.CancellationToken.ThrowIfCancellationRequested();
                if (trial.EpochsRun < trainer.History.Count)
                {
                    // Trained before the sweep was interrupted: its checkpoint recorded the epoch.
                    var recorded = trainer.History[trial.EpochsRun];
                    trial.AddEpoch(recorded.ValidationMetric ?? double.NaN);
                    trial.WallTime += recorded.Duration;
                    continue;
                }
                if (BudgetSpent)
                {
                    trial.Status = TrialStatus.TimeBudget;
                    break;
                }
                var record = trainer.RunEpoch();
                double metric = record.ValidationMetric ?? double.NaN;
                trial.AddEpoch(metric);
                _totalEpochs++;
                var report = new PrefixTuningSweepProgress
                {
                    Trial = trial.Index,
                    TrialCount = _trials.Count,
                    PrefixLength = trial.PrefixLength,
                    LearningRate = trial.LearningRate,
                    Epoch = record.Epoch,
                    ValidationMetric = metric,
                    TotalEpochs = _totalEpochs,
                    Elapsed = _clock.Elapsed,
                };
                _sweep.Progress?.Report(report);
                _log(report.ToString());
            }
        }
        finally
        {
            trial.WallTime += _clock.Elapsed - started;
        }
        if (trainer.IsFinished && trial.EpochsRun == trainer.History.Count)
            trial.Status = trainer.History.Count < _baseOptions.MaxEpochs ? TrialStatus.EarlyStopping : TrialStatus.Completed;
        else
            _randomStates[trial] = torch.random.get_rng_state(); // resumed later, after other trials drew from the generator
    }

    /// <summary>The checkpoint subfolder of a trial: its prefix length and learning rate (round-trip formatted, so distinct rates get distinct folders).</summary>
    internal static string FolderName(PrefixTuningTrial trial) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"prefix-{trial.PrefixLength}_lr-{trial.LearningRate:R}");

    /// <summary>The public sweep metric as the training loop's validation metric.</summary>
    internal static ValidationMetric MetricOf(SweepMetric metric) => metric switch
    {
        SweepMetric.Accuracy => ValidationMetric.Accuracy,
        SweepMetric.EntityF1 => ValidationMetric.EntityF1,
        _ => ValidationMetric.Auto,
    };

    private void Retire(PrefixTuningTrial trial, TrialStatus status)
    {
        trial.Status = status;
        if (_alive.Remove(trial, out var run))
            run.Dispose();
        if (_randomStates.Remove(trial, out var state))
            state.Dispose();
    }

    public void Dispose()
    {
        foreach (var run in _alive.Values)
            run.Dispose();
        _alive.Clear();
        foreach (var state in _randomStates.Values)
            state.Dispose();
        _randomStates.Clear();
    }
}
