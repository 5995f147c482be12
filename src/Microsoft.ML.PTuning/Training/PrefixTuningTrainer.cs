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
/// Deterministic on CPU for a given seed: shuffling uses its own seeded generator, and the torch generator is seeded
/// before the first step.
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
    // Held while the model is in train mode: a backbone shared with other models (inference, other trials) switches
    // train/eval mode for all of them, so every user sets its mode and runs its forward under the base model's gate.
    private readonly object _modeGate;
    private readonly IReadOnlyList<Parameter> _trainable;
    private readonly OptimizerHelper _optimizer;
    private readonly LearningRateSchedule _schedule;
    private readonly double[] _peakRates;   // per optimizer parameter group, in the optimizer's order
    private readonly Random _shuffle;
    private readonly int[] _lengths;
    private readonly BelowPrefixCache? _belowPrefix;
    private readonly int _stepsPerEpoch;
    private readonly List<EpochRecord> _history = new();
    private Tensor[]? _best;
    private int _step;
    private int _epochsWithoutImprovement;

    public PrefixTuningTrainer(PrefixTunedModel model, IReadOnlyList<TrainingExample> train, TrainerSettings settings,
        bool tokenLabels, long padTokenId, Device device, Func<double>? validate,
        Action<TrainingReport>? progress, Action<string>? log, CancellationToken cancellation, object? modeGate = null)
    {
        _modeGate = modeGate ?? new object();
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
        _shuffle = new Random(settings.Seed);
        _lengths = train.Select(e => e.Tokens.InputIds.Length).ToArray();
        _belowPrefix = BelowPrefixCache.For(model, train, settings, padTokenId, device);
        _trainable = model.TrainableParameters();
        if (_trainable.Count == 0)
            throw new InvalidOperationException("The model has no trainable parameters for this tuning method.");

        // Weight decay skips biases and LayerNorm weights, as Hugging Face's Trainer does: those are the 1-D tensors.
        // A reparameterized prefix gets its own peak rate (PrefixTuningOptions.PrefixProjectionLearningRate says why).
        var projection = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        if (model.Prefix is { IsReparameterized: true } mlp)
            projection.UnionWith(mlp.parameters());
        var groups = new List<AdamW.ParamGroup>();
        var peaks = new List<double>();
        foreach (bool inProjection in new[] { false, true })
        {
            double peak = inProjection ? settings.ProjectionLearningRate : settings.LearningRate;
            foreach (bool decays in new[] { true, false })
            {
                var members = _trainable.Where(p => projection.Contains(p) == inProjection && p.dim() >= 2 == decays).ToList();
                if (members.Count == 0)
                    continue;
                groups.Add(new AdamW.ParamGroup(members, new AdamW.Options { LearningRate = peak, weight_decay = decays ? settings.WeightDecay : 0 }));
                peaks.Add(peak);
            }
        }
        _optimizer = torch.optim.AdamW(groups, settings.LearningRate);
        _peakRates = peaks.ToArray();

        _stepsPerEpoch = (train.Count + settings.BatchSize - 1) / settings.BatchSize;
        _schedule = new LearningRateSchedule(_stepsPerEpoch * settings.MaxEpochs, settings.WarmupRatio);
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
        int epoch = _history.Count + 1;
        var started = Stopwatch.StartNew();
        var batches = _settings.GroupByLength
            ? LengthGroupedOrder.Batches(_shuffle, _lengths, _settings.BatchSize)
            : LengthGroupedOrder.Shuffled(_shuffle, _train.Count, _settings.BatchSize);

        double lossSum = 0, windowLoss = 0;
        int windowExamples = 0, windowSteps = 0;
        var window = Stopwatch.StartNew();
        int reportEvery = Math.Max(1, _stepsPerEpoch / 10);
        foreach (int[] members in batches)
        {
            _cancellation.ThrowIfCancellationRequested();
            double loss = Step(members, epoch);
            lossSum += loss;
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
        }

        double meanLoss = lossSum / _stepsPerEpoch;
        double? metric = null;
        if (_validate != null)
        {
            metric = _validate(); // runs in eval mode under the same gate (InferenceEngine.Run)
        }
        var record = new EpochRecord(epoch, meanLoss, metric, started.Elapsed);
        _history.Add(record);
        RememberIfBest(record);
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
        _log?.Invoke($"Restored the weights of epoch {BestEpoch} (validation {BestMetric:F4}).");
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
            _model.train();
            _optimizer.zero_grad();
            Tensor logits = _belowPrefix?.Logits(indices, batch) ?? _model.forward(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds);
            Tensor loss = _tokenLabels
                ? nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), labels.reshape(-1), ignore_index: TrainingExample.IgnoreIndex)
                : nn.functional.cross_entropy(logits, labels);
            value = loss.item<float>();
            if (!double.IsFinite(value))
            {
                throw new InvalidOperationException(
                    $"Training diverged: the loss became {value} at epoch {epoch}, step {_step + 1}. Lower LearningRate (now {_settings.LearningRate:G3}) or enable ClipNorm.");
            }

            loss.backward();
            if (_settings.ClipNorm > 0)
                nn.utils.clip_grad_norm_(_trainable, _settings.ClipNorm);
            _optimizer.step();
        }
        _step++;
        return value;
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

    private void Report(int epoch, double loss, double? metric, double examplesPerSecond, bool endOfEpoch)
    {
        _progress?.Invoke(new TrainingReport(epoch, _settings.MaxEpochs, _step, _stepsPerEpoch * _settings.MaxEpochs, loss, metric,
            examplesPerSecond, endOfEpoch));
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
    }
}
