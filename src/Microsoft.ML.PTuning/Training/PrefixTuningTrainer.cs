using System.Diagnostics;
using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Training;

/// <summary>
/// The training loop: AdamW over the trainable parameters only, linear warmup then linear decay, gradient clipping,
/// dynamic padding over length-grouped batches (<see cref="LengthGroupedOrder"/>), a cache of the layers beneath a
/// partial-depth prefix (<see cref="BelowPrefixCache"/>), validation after each epoch with early stopping and restore of the best epoch's weights.
/// Epochs run one at a time (<see cref="RunEpoch"/>) so a sweep can pause a trial and resume it later.
/// Deterministic on CPU for a given seed: each epoch's order is drawn from (seed, epoch), and the torch generator is
/// seeded before the first step. With a <see cref="TrainingCheckpoint"/> the trainer saves its whole state at each
/// epoch's end and, within epochs, whenever the checkpoint's interval has passed; constructed over a checkpoint of the
/// same run, it continues at the exact step, and on CPU ends bit-identical to a run that was never interrupted.
/// Mixed precision: a trained parameter held in a lower precision than fp32 (full fine-tuning's encoder over a bf16
/// base) gets an fp32 master copy. The optimizer, clipping, the best-epoch snapshot, restore and checkpoints work on
/// the masters; after each step the backward's bf16 gradients are taken as fp32 and, after the update (or a restore),
/// the bf16 compute copy is refreshed from its master, so small updates accumulate in fp32 instead of rounding away.
/// </summary>
internal sealed class PrefixTuningTrainer : IDisposable
{
    private readonly PrefixTunedModel _model;
    private readonly IReadOnlyList<TrainingExample> _train;
    private readonly TrainerSettings _settings;
    private readonly bool _tokenLabels;
    private readonly long _padTokenId;
    private readonly Device _device;
    private readonly Func<double>? _validate;
    private readonly Action<TrainingReport>? _progress;
    private readonly Action<string>? _log;
    private readonly CancellationToken _cancellation;
    private readonly Action? _checkAlive;   // the host's own stop signal (ML.NET's CancelExecution); throws to stop
    private readonly Stopwatch _active = new(); // time spent in RunEpoch: a sweep's pauses between epochs do not count
    private int _stepsAtStart;              // steps a resumed run had done before this trainer (not timed by it)
    // Held while the model is in train mode: a backbone shared with other models (inference, other trials) switches
    // train/eval mode for all of them, so every user sets its mode and runs its forward under the base model's gate.
    private readonly object _modeGate;
    private readonly IReadOnlyList<Parameter> _trainable;   // what the optimizer updates: fp32 (masters where needed)
    private readonly (Parameter Compute, Parameter Master)[] _masters;
    private readonly AdamWOptimizer _optimizer;
    private readonly int[] _optimizerOrder; // trainable index of each parameter, in the optimizer's state order
    private readonly string[] _names;       // a stable name per trainable parameter (checkpoint keys)
    private readonly TrainingCheckpoint? _checkpoint;
    private readonly LearningRateSchedule _schedule;
    private readonly double[] _peakRates;   // per optimizer parameter group, in the optimizer's order
    private readonly bool _reparameterized; // a prefix MLP trains at the projection rate
    private readonly int[] _lengths;
    private readonly BelowPrefixCache? _belowPrefix;
    private readonly int _stepsPerEpoch;
    private readonly List<EpochRecord> _history = new();
    private Tensor[]? _best;
    private int _step;
    private int _epochsWithoutImprovement;
    private int _batchesDone;     // of the epoch in progress
    private double _epochLossSum; // of those batches

    public PrefixTuningTrainer(PrefixTunedModel model, IReadOnlyList<TrainingExample> train, TrainerSettings settings,
        bool tokenLabels, long padTokenId, Device device, Func<double>? validate,
        Action<TrainingReport>? progress, Action<string>? log, CancellationToken cancellation, object? modeGate = null,
        TrainingCheckpoint? checkpoint = null, Action? checkAlive = null)
    {
        _modeGate = modeGate ?? new object();
        _checkAlive = checkAlive;
        if (train.Count == 0)
            throw new InvalidOperationException("The training data has no usable rows (every row was empty or had a missing label).");
        _model = model;
        _train = train;
        _settings = settings;
        _tokenLabels = tokenLabels;
        _padTokenId = padTokenId;
        _device = device;
        _validate = validate;
        _progress = progress;
        _log = log;
        _cancellation = cancellation;

        torch.manual_seed(settings.Seed);
        _lengths = train.Select(e => e.Tokens.InputIds.Length).ToArray();
        _belowPrefix = BelowPrefixCache.For(model, train, settings, padTokenId, device);
        var computed = model.TrainableParameters();
        if (computed.Count == 0)
            throw new InvalidOperationException("The model has no trainable parameters for this tuning method.");
        _masters = computed.Where(p => p.dtype != ScalarType.Float32)
            .Select(p => (p, new Parameter(p.detach().to_type(ScalarType.Float32), requires_grad: true)))
            .ToArray();
        var masterOf = new Dictionary<Parameter, Parameter>(ReferenceEqualityComparer.Instance);
        foreach (var (compute, master) in _masters)
            masterOf.Add(compute, master);
        _trainable = computed.Select(p => masterOf.GetValueOrDefault(p, p)).ToList();

        // Weight decay skips biases and LayerNorm weights, as Hugging Face's Trainer does: those are the 1-D tensors.
        // A reparameterized prefix gets its own peak rate (PrefixTuningOptions.PrefixProjectionLearningRate says why).
        var projection = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        if (model.Prefix is { IsReparameterized: true } mlp)
            projection.UnionWith(mlp.parameters());
        var groups = new List<AdamWOptimizer.Group>();
        var peaks = new List<double>();
        foreach (bool inProjection in new[] { false, true })
        {
            double peak = inProjection ? settings.ProjectionLearningRate : settings.LearningRate;
            foreach (bool decays in new[] { true, false })
            {
                var members = _trainable.Where(p => projection.Contains(p) == inProjection && p.dim() >= 2 == decays).ToList();
                if (members.Count == 0)
                    continue;
                groups.Add(new AdamWOptimizer.Group(members, peak, decays ? settings.WeightDecay : 0));
                peaks.Add(peak);
            }
        }
        _optimizer = new AdamWOptimizer(groups);
        _peakRates = peaks.ToArray();
        _reparameterized = projection.Count > 0;
        var index = new Dictionary<Parameter, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < _trainable.Count; i++)
            index[_trainable[i]] = i;
        _optimizerOrder = groups.SelectMany(g => g.Parameters).Select(p => index[p]).ToArray();
        _names = NamesOf(model, computed); // the model's names, also for parameters trained through an fp32 master

        _stepsPerEpoch = (train.Count + settings.BatchSize - 1) / settings.BatchSize;
        _schedule = new LearningRateSchedule(_stepsPerEpoch * settings.MaxEpochs, settings.WarmupRatio);

        _checkpoint = checkpoint;
        if (checkpoint?.Load(TrainerState.MaxBytes(_trainable, settings.MaxEpochs)) is { } state)
        {
            using (state)
            {
                try
                {
                    Restore(state);
                }
                catch (InvalidDataException e)
                {
                    throw new InvalidDataException(
                        $"The training checkpoint '{checkpoint.Path}' does not fit this run: {e.Message.TrimEnd('.')}. Delete it to train from the beginning, or set CheckpointFolder to another folder.", e);
                }
            }
            log?.Invoke($"Resuming from '{checkpoint.Path}' at epoch {_history.Count + 1}, step {_step} " +
                $"({_batchesDone} of {_stepsPerEpoch} batches of that epoch done{(IsFinished ? "; training had finished" : "")}).");
        }
        _stepsAtStart = _step;
    }

    /// <summary>Epochs run so far, with their loss and validation metric.</summary>
    public IReadOnlyList<EpochRecord> History => _history;

    /// <summary>The 1-based epoch with the best validation metric (the last epoch without validation data).</summary>
    public int BestEpoch { get; private set; }

    /// <summary>The best validation metric so far, or null without validation data.</summary>
    public double? BestMetric { get; private set; }

    /// <summary>True once the planned epochs are done or early stopping has triggered.</summary>
    public bool IsFinished => _history.Count >= _settings.MaxEpochs ||
        (_validate != null && _settings.EarlyStoppingPatience > 0 && _epochsWithoutImprovement >= _settings.EarlyStoppingPatience);

    /// <summary>The cache of the layers beneath a partial-depth prefix, or null (full depth, other methods).</summary>
    public BelowPrefixCache? BelowPrefix => _belowPrefix;

    /// <summary>Number of trainable scalars.</summary>
    public long TrainableParameterCount => _trainable.Sum(p => p.numel());

    /// <summary>Runs epochs until <see cref="IsFinished"/>, then restores the best epoch's weights.</summary>
    public void Run()
    {
        while (!IsFinished)
            RunEpoch();
        RestoreBest();
    }

    /// <summary>Trains one epoch, then validates and remembers the weights if the metric improved.</summary>
    public EpochRecord RunEpoch()
    {
        _active.Start();
        try
        {
            return RunEpochTimed();
        }
        finally
        {
            _active.Stop();
        }
    }

    private EpochRecord RunEpochTimed()
    {
        int epoch = _history.Count + 1;
        var started = Stopwatch.StartNew();
        var batches = EpochBatches(epoch);

        double windowLoss = 0;
        int windowExamples = 0, windowSteps = 0;
        var window = Stopwatch.StartNew();
        int reportEvery = Math.Max(1, _stepsPerEpoch / 10);
        foreach (int[] members in batches.Skip(_batchesDone))
        {
            ThrowIfStopped();
            double loss = Step(members, epoch);
            _epochLossSum += loss;
            _batchesDone++;
            windowLoss += loss;
            windowSteps++;
            windowExamples += members.Length;
            if (windowSteps == reportEvery)
            {
                Report(epoch, windowLoss / windowSteps, null, windowExamples / window.Elapsed.TotalSeconds, endOfEpoch: false);
                windowLoss = 0;
                windowSteps = 0;
                windowExamples = 0;
                window.Restart();
            }
            if (_checkpoint is { IsDue: true } && _batchesDone < _stepsPerEpoch)
                SaveCheckpoint($"epoch {epoch}, batch {_batchesDone} of {_stepsPerEpoch}");
        }

        double meanLoss = _epochLossSum / _stepsPerEpoch;
        double? metric = null;
        if (_validate != null)
        {
            ThrowIfStopped();
            metric = _validate(); // runs in eval mode under the same gate (InferenceEngine.Run)
        }
        var record = new EpochRecord(epoch, meanLoss, metric, started.Elapsed);
        _history.Add(record);
        _batchesDone = 0;
        _epochLossSum = 0;
        RememberIfBest(record);
        if (_checkpoint != null)
            SaveCheckpoint($"end of epoch {epoch}");
        Report(epoch, meanLoss, metric, _train.Count / started.Elapsed.TotalSeconds, endOfEpoch: true);
        return record;
    }

    /// <summary>Copies the best epoch's trainable weights back into the model (no-op if the last epoch was best).</summary>
    public void RestoreBest()
    {
        if (_best == null || BestEpoch == _history.Count)
            return;
        using (torch.no_grad())
        {
            for (int i = 0; i < _trainable.Count; i++)
                _trainable[i].copy_(_best[i]);
        }
        RefreshComputeCopies();
        _log?.Invoke($"Restored the weights of epoch {BestEpoch} (validation {BestMetric:F4}).");
    }

    /// <summary>
    /// The batches of 1-based <paramref name="epoch"/>: the epoch-th draw from <c>new Random(seed)</c> (length-grouped
    /// windows, or a plain shuffle; <see cref="LengthGroupedOrder"/>), made afresh from (seed, epoch) so that a run resumed
    /// from a checkpoint visits the same batches as one never stopped (System.Random's state cannot be saved), and equal to
    /// what one long-lived generator gave. Replaying the earlier epochs' draws costs nothing beside a training step.
    /// </summary>
    private List<int[]> EpochBatches(int epoch)
    {
        var random = new Random(_settings.Seed);
        List<int[]> batches = [];
        for (int e = 1; e <= epoch; e++)
        {
            batches = _settings.GroupByLength
                ? LengthGroupedOrder.Batches(random, _lengths, _settings.BatchSize)
                : LengthGroupedOrder.Shuffled(random, _lengths.Length, _settings.BatchSize);
        }
        return batches;
    }

    private void SaveCheckpoint(string position)
    {
        using var state = TrainerState.Capture(_step, _batchesDone, _epochLossSum, _history, BestEpoch, BestMetric, _epochsWithoutImprovement,
            _trainable, _names, _optimizer, _optimizerOrder, _best);
        _checkpoint!.Save(state, $"{position}, step {_step}");
    }

    /// <summary>Continues from <paramref name="state"/>; throws <see cref="InvalidDataException"/> when it does not fit this run.</summary>
    private void Restore(TrainerState state)
    {
        var best = state.RestoreInto(_trainable, _names, _optimizer, _optimizerOrder, _stepsPerEpoch, _settings.MaxEpochs, _validate != null);
        RefreshComputeCopies();
        DisposeBest();
        _best = best;
        _step = state.Step;
        _batchesDone = state.BatchesDone;
        _epochLossSum = state.EpochLossSum;
        _history.Clear();
        _history.AddRange(state.History);
        BestEpoch = state.BestEpoch;
        BestMetric = state.BestMetric;
        _epochsWithoutImprovement = state.EpochsWithoutImprovement;
    }

    /// <summary>Stable names of the trainable parameters: the task model's own, then the backbone's (full fine-tuning).</summary>
    private static string[] NamesOf(PrefixTunedModel model, IReadOnlyList<Parameter> trainable)
    {
        var names = new Dictionary<Parameter, string>(ReferenceEqualityComparer.Instance);
        foreach (var (name, parameter) in model.named_parameters())
            names.TryAdd(parameter, name);
        foreach (var (name, parameter) in model.Backbone.named_parameters())
            names.TryAdd(parameter, "backbone." + name);
        return trainable.Select((p, i) => names.TryGetValue(p, out var name) ? name : $"trainable.{i}").ToArray();
    }

    private double Step(int[] indices, int epoch)
    {
        using var scope = torch.NewDisposeScope();
        var members = indices.Select(i => _train[i]).ToList();
        using var batch = TokenBatch.Collate(members.Select(m => m.Tokens).ToList(), _padTokenId, _device);
        Tensor labels = Labels(members, batch.Length);

        double factor = _schedule.Factor(_step);
        int g = 0;
        foreach (var group in _optimizer.ParamGroups)
            group.LearningRate = _peakRates[g++] * factor;

        double value;
        lock (_modeGate)
        {
            // Switched only when something (validation, another model's inference) left it in eval mode.
            if (!_model.training || !_model.Backbone.training)
                _model.train();
            _optimizer.ZeroGrad();
            Tensor logits = _belowPrefix?.Logits(indices, batch) ?? _model.forward(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds);
            Tensor loss = _tokenLabels
                ? nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), labels.reshape(-1), ignore_index: TrainingExample.IgnoreIndex)
                : nn.functional.cross_entropy(logits, labels);
            value = loss.item<float>();
            if (!double.IsFinite(value))
            {
                throw new InvalidOperationException($"Training diverged: the loss became {value} at epoch {epoch}, step {_step + 1}. {DivergenceCause()}");
            }

            loss.backward();
            foreach (var (compute, master) in _masters)
            {
                master.grad = compute.grad?.to_type(ScalarType.Float32);
                compute.grad = null;
            }
            if (_settings.ClipNorm > 0)
                nn.utils.clip_grad_norm_(_trainable, _settings.ClipNorm);
            _optimizer.Step();
            RefreshComputeCopies();
        }
        _step++;
        return value;
    }

    /// <summary>
    /// The likely cause of a non-finite loss, from the settings this run has: at the first step no update has happened,
    /// so only the inputs or the base can be at fault; later, weight decay that removes a large share of every weight per
    /// step, a rate above the search range's top (5e-2; AdamW moves each weight by about the rate per step), or no clipping.
    /// </summary>
    private string DivergenceCause()
    {
        if (_step == 0)
        {
            return "No weight had been updated yet, so the options are not the cause: the model's inputs or the base model's " +
                "weights are not finite (or overflow in the forward pass). Check the base model's weight file.";
        }
        double rate = _peakRates.Max();
        double decayPerStep = rate * _settings.WeightDecay;
        var causes = new List<string>();
        if (decayPerStep >= 0.01)
            causes.Add($"weight decay: WeightDecay {_settings.WeightDecay:G3} at learning rate {rate:G3} removes {decayPerStep:P1} of every weight matrix per step; lower WeightDecay");
        if (rate > 0.05)
            causes.Add($"a high learning rate: {rate:G3} moves every trained weight by about that much per step; lower {(_reparameterized && _settings.ProjectionLearningRate >= rate ? "PrefixProjectionLearningRate" : "LearningRate")}");
        if (_settings.ClipNorm <= 0)
            causes.Add("gradient clipping is off (ClipNorm = 0); set ClipNorm to 1");
        if (causes.Count == 0)
            causes.Add($"the learning rate ({rate:G3}) for this model and data; lower LearningRate");
        return "Likely cause: " + string.Join("; or ", causes) + ".";
    }

    /// <summary>Copies each fp32 master into its lower-precision compute parameter (no-op without masters).</summary>
    private void RefreshComputeCopies()
    {
        if (_masters.Length == 0)
            return;
        using (torch.no_grad())
        {
            foreach (var (compute, master) in _masters)
                compute.copy_(master);
        }
    }

    /// <summary>[B] class indices, or [B, T] token labels padded with <see cref="TrainingExample.IgnoreIndex"/> to the batch length.</summary>
    private Tensor Labels(IReadOnlyList<TrainingExample> members, int length)
    {
        int rows = members.Count;
        if (!_tokenLabels)
            return tensor(members.Select(m => (long)m.Labels[0]).ToArray(), new long[] { rows }, dtype: ScalarType.Int64, device: _device);
        var values = new long[rows * length];
        Array.Fill(values, TrainingExample.IgnoreIndex);
        for (int r = 0; r < rows; r++)
        {
            for (int t = 0; t < members[r].Labels.Length; t++)
                values[r * length + t] = members[r].Labels[t];
        }
        return tensor(values, new long[] { rows, length }, dtype: ScalarType.Int64, device: _device);
    }

    private void RememberIfBest(EpochRecord record)
    {
        bool improved = record.ValidationMetric is not double metric || BestMetric is not double best || metric > best;
        if (!improved)
        {
            _epochsWithoutImprovement++;
            return;
        }
        _epochsWithoutImprovement = 0;
        BestEpoch = record.Epoch;
        BestMetric = record.ValidationMetric;
        if (_validate == null)
            return; // without validation the last epoch is kept; no snapshot needed
        DisposeBest();
        _best = _trainable.Select(p => p.detach().clone()).ToArray();
    }

    private void ThrowIfStopped()
    {
        _cancellation.ThrowIfCancellationRequested();
        _checkAlive?.Invoke();
    }

    private void Report(int epoch, double loss, double? metric, double examplesPerSecond, bool endOfEpoch)
    {
        int totalSteps = _stepsPerEpoch * _settings.MaxEpochs;
        _progress?.Invoke(new TrainingReport(epoch, _settings.MaxEpochs, _step, totalSteps, loss, metric,
            examplesPerSecond, endOfEpoch, _active.Elapsed, TrainingReport.EstimateRemaining(_active.Elapsed, _step - _stepsAtStart, totalSteps - _step)));
    }

    private void DisposeBest()
    {
        if (_best == null)
            return;
        foreach (var tensor in _best)
            tensor.Dispose();
        _best = null;
    }

    public void Dispose()
    {
        DisposeBest();
        _belowPrefix?.Dispose();
        _optimizer.Dispose();
        foreach (var (_, master) in _masters)
            master.Dispose();
    }
}
