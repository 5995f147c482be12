using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Training;

/// <summary>
/// Everything a <see cref="PrefixTuningTrainer"/> needs to continue exactly where it was: the schedule position, the
/// epoch in progress, the history and early-stopping state, torch's CPU generator, and the tensors (trainable
/// parameters, AdamW's moments, the best epoch's weights) on the CPU, keyed by <see cref="TensorName"/>.
/// The epoch's batch order needs no saving: it is drawn from (seed, epoch).
/// </summary>
/// <param name="Step">Optimizer steps done, over all epochs (the learning-rate schedule's position).</param>
/// <param name="BatchesDone">Batches done of the epoch after <paramref name="History"/> (0 at an epoch's end).</param>
/// <param name="EpochLossSum">The sum of those batches' losses (the epoch's mean loss needs it).</param>
/// <param name="History">The finished epochs.</param>
/// <param name="BestEpoch">The 1-based best epoch so far (0 before any).</param>
/// <param name="BestMetric">Its validation metric, or null.</param>
/// <param name="EpochsWithoutImprovement">Early stopping's patience counter.</param>
/// <param name="RandomState">torch's CPU generator state (dropout).</param>
/// <param name="OptimizerSteps">AdamW's step count of each trainable parameter (its bias correction), in trainable order.</param>
/// <param name="Tensors">CPU tensors by name; the state owns and disposes them.</param>
internal sealed record TrainerState(
    int Step,
    int BatchesDone,
    double EpochLossSum,
    IReadOnlyList<EpochRecord> History,
    int BestEpoch,
    double? BestMetric,
    int EpochsWithoutImprovement,
    byte[] RandomState,
    long[] OptimizerSteps,
    IReadOnlyDictionary<string, Tensor> Tensors) : IDisposable
{
    /// <summary>What a trainable parameter's value is saved under.</summary>
    public const string Parameter = "parameter";

    /// <summary>AdamW's first moment.</summary>
    public const string ExpAvg = "exp_avg";

    /// <summary>AdamW's second moment.</summary>
    public const string ExpAvgSq = "exp_avg_sq";

    /// <summary>The best epoch's value (only with validation data).</summary>
    public const string Best = "best";

    /// <summary>The key of <paramref name="kind"/> of the trainable parameter named <paramref name="parameter"/>.</summary>
    public static string TensorName(string kind, string parameter) => $"{kind}/{parameter}";

    /// <summary>
    /// The largest checkpoint a run with these parameters can write: four copies of every trainable tensor (value, two
    /// moments, best epoch) plus room for the history, names and generator state. A bigger file is refused unread.
    /// </summary>
    public static long MaxBytes(IReadOnlyList<Parameter> trainable, int maxEpochs) =>
        4 * trainable.Sum(p => p.numel() * p.element_size()) + 1024L * (trainable.Count + 4) + 32L * maxEpochs + (1 << 20);

    /// <summary>A CPU copy of the trainer's state (the caller disposes it).</summary>
    public static TrainerState Capture(int step, int batchesDone, double epochLossSum, IReadOnlyList<EpochRecord> history, int bestEpoch,
        double? bestMetric, int epochsWithoutImprovement, IReadOnlyList<Parameter> trainable, IReadOnlyList<string> names, AdamWOptimizer optimizer,
        int[] optimizerOrder, Tensor[]? best)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var steps = new long[trainable.Count];
        Tensor Copy(Tensor t) => t.detach().cpu().clone();
        for (int i = 0; i < trainable.Count; i++)
        {
            tensors[TensorName(Parameter, names[i])] = Copy(trainable[i]);
            if (best != null)
                tensors[TensorName(Best, names[i])] = Copy(best[i]);
        }
        for (int k = 0; k < optimizerOrder.Length; k++)
        {
            var adam = optimizer.State[k];
            int i = optimizerOrder[k];
            steps[i] = adam.Step;
            tensors[TensorName(ExpAvg, names[i])] = Copy(adam.ExpAvg);
            tensors[TensorName(ExpAvgSq, names[i])] = Copy(adam.ExpAvgSq);
        }
        using var random = torch.random.get_rng_state();
        return new TrainerState(step, batchesDone, epochLossSum, history.ToArray(), bestEpoch, bestMetric, epochsWithoutImprovement,
            random.bytes.ToArray(), steps, tensors);
    }

    /// <summary>
    /// Checks this state against the run (names, dtypes and shapes of the tensors, counts and positions, finite values)
    /// and copies it into the parameters, AdamW's moments and torch's generator. Returns the best epoch's weights on the
    /// parameters' device, or null. Throws <see cref="InvalidDataException"/> naming what does not fit, before changing anything.
    /// </summary>
    public Tensor[]? RestoreInto(IReadOnlyList<Parameter> trainable, IReadOnlyList<string> names, AdamWOptimizer optimizer, int[] optimizerOrder,
        int stepsPerEpoch, int maxEpochs, bool validates)
    {
        CheckPosition(stepsPerEpoch, maxEpochs, validates);
        if (OptimizerSteps.Length != trainable.Count)
            throw new InvalidDataException($"it has optimizer steps for {OptimizerSteps.Length} parameters; the model trains {trainable.Count}");
        if (OptimizerSteps.Any(s => s < 0 || s > Step))
            throw new InvalidDataException($"an optimizer step count is outside 0..{Step}");
        bool hasBest = validates && History.Count > 0;
        using var scope = torch.NewDisposeScope();
        var expected = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < trainable.Count; i++)
        {
            foreach (string kind in hasBest ? new[] { Parameter, ExpAvg, ExpAvgSq, Best } : new[] { Parameter, ExpAvg, ExpAvgSq })
            {
                string name = TensorName(kind, names[i]);
                expected.Add(name);
                if (!Tensors.TryGetValue(name, out var tensor))
                    throw new InvalidDataException($"tensor '{name}' is missing");
                if (tensor.dtype != trainable[i].dtype || !tensor.shape.SequenceEqual(trainable[i].shape))
                {
                    throw new InvalidDataException(
                        $"tensor '{name}' is {tensor.dtype} [{string.Join(", ", tensor.shape)}]; the model's is {trainable[i].dtype} [{string.Join(", ", trainable[i].shape)}]");
                }
                if (!torch.isfinite(tensor).all().item<bool>())
                    throw new InvalidDataException($"tensor '{name}' holds non-finite values");
            }
        }
        string? unexpected = Tensors.Keys.FirstOrDefault(k => !expected.Contains(k));
        if (unexpected != null)
            throw new InvalidDataException($"tensor '{unexpected}' is not one of this model's");
        using (var current = torch.random.get_rng_state())
        {
            if (RandomState.Length != current.numel())
                throw new InvalidDataException($"its generator state has {RandomState.Length} bytes; torch's has {current.numel()}");
        }

        using (torch.no_grad())
        {
            for (int i = 0; i < trainable.Count; i++)
                trainable[i].copy_(Tensors[TensorName(Parameter, names[i])]);
            for (int k = 0; k < optimizerOrder.Length; k++)
            {
                var adam = optimizer.State[k];
                int i = optimizerOrder[k];
                adam.Step = OptimizerSteps[i];
                adam.ExpAvg.copy_(Tensors[TensorName(ExpAvg, names[i])]);
                adam.ExpAvgSq.copy_(Tensors[TensorName(ExpAvgSq, names[i])]);
            }
        }
        using (var random = torch.tensor(RandomState, dtype: ScalarType.Byte))
            torch.random.set_rng_state(random);
        return hasBest
            ? Enumerable.Range(0, trainable.Count).Select(i => Tensors[TensorName(Best, names[i])].to(trainable[i].device).clone().MoveToOuterDisposeScope()).ToArray()
            : null;
    }

    private void CheckPosition(int stepsPerEpoch, int maxEpochs, bool validates)
    {
        if (History.Count > maxEpochs)
            throw new InvalidDataException($"it has {History.Count} epochs; this run trains at most {maxEpochs}");
        for (int e = 0; e < History.Count; e++)
        {
            var record = History[e];
            if (record.Epoch != e + 1 || !double.IsFinite(record.MeanLoss) || record.ValidationMetric is double m && !double.IsFinite(m)
                || record.ValidationMetric.HasValue != validates)
            {
                throw new InvalidDataException($"its record of epoch {e + 1} does not fit this run");
            }
        }
        if (BatchesDone < 0 || BatchesDone >= stepsPerEpoch || (BatchesDone > 0 && History.Count == maxEpochs))
            throw new InvalidDataException($"it is {BatchesDone} batches into an epoch of {stepsPerEpoch}");
        if (Step != History.Count * stepsPerEpoch + BatchesDone)
            throw new InvalidDataException($"its step ({Step}) is not {History.Count} epochs of {stepsPerEpoch} steps plus {BatchesDone}");
        if (!double.IsFinite(EpochLossSum) || BestEpoch < 0 || BestEpoch > History.Count || (History.Count > 0) != (BestEpoch > 0)
            || EpochsWithoutImprovement < 0 || EpochsWithoutImprovement > History.Count || BestMetric is double b && !double.IsFinite(b))
        {
            throw new InvalidDataException("its best-epoch or early-stopping record does not fit its history");
        }
    }

    public void Dispose()
    {
        foreach (var tensor in Tensors.Values)
            tensor.Dispose();
    }
}
