using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Tests.Modeling;
using Microsoft.ML.PTuning.Tokenization;
using Microsoft.ML.PTuning.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Tests.Training;

/// <summary>
/// The cache of the frozen layers beneath the prefix (partial depth's lower layers, the linear probe's whole encoder):
/// training with it gives the losses of recomputing them every step. Dropout is off, so no run draws from torch's
/// generator and the runs start from one copied state.
/// </summary>
public class BelowPrefixCacheTests
{
    private static readonly EncoderConfig Config = TinyEncoders.Roberta() with { HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0 };

    private static List<TrainingExample> Examples(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(i =>
        {
            int length = random.Next(3, 13);
            int[] ids = Enumerable.Range(0, length).Select(_ => random.Next(3, Config.VocabSize)).ToArray();
            return new TrainingExample(new EncodedText(ids, new int[length]), new[] { i % 3 });
        }).ToList();
    }

    private static TrainerSettings Settings(long cacheBytes, ScalarType cacheType) => new(
        LearningRate: 3e-2, ProjectionLearningRate: 3e-4, WeightDecay: 0, WarmupRatio: 0, ClipNorm: 1.0, BatchSize: 4, MaxEpochs: 3,
        EarlyStoppingPatience: 0, Seed: 5, BelowPrefixCacheBytes: cacheBytes, BelowPrefixCacheType: cacheType);

    private static PrefixTunedModel Model(TransformerEncoder backbone, TuningMethod method) => method == TuningMethod.LinearProbe
        ? new PrefixTunedModel(backbone, TaskKind.SequenceClassification, 3, TuningMethod.LinearProbe, prefixLength: 0, dropout: 0)
        : new PrefixTunedModel(backbone, TaskKind.SequenceClassification, 3, TuningMethod.PrefixTuning, prefixLength: 3, dropout: 0, prefixDepth: 1);

    private static (double[] Losses, int Cached, long Recomputed, long Bytes) Train(TransformerEncoder backbone,
        Dictionary<string, Tensor> initial, List<TrainingExample> examples, TrainerSettings settings, TuningMethod method = TuningMethod.PrefixTuning)
    {
        using var model = Model(backbone, method);
        model.LoadAdapterStateDict(initial);
        using var trainer = new PrefixTuningTrainer(model, examples, settings, tokenLabels: false, Config.PadTokenId, torch.CPU,
            validate: null, progress: null, log: null, CancellationToken.None);
        trainer.Run();
        var cache = trainer.BelowPrefix!;
        return (trainer.History.Select(h => h.MeanLoss).ToArray(), cache.CachedCount, cache.Recomputed, cache.Bytes);
    }

    private static Dictionary<string, Tensor> InitialState(TransformerEncoder backbone, TuningMethod method)
    {
        using var init = Model(backbone, method);
        return init.AdapterStateDict();
    }

    [Fact]
    public void CachedTrainingGivesTheLossesOfRecomputingAndHoldsEveryExampleOnce()
    {
        using var backbone = TinyEncoders.Random(Config, seed: 60);
        var examples = Examples(22, seed: 61);
        var initial = InitialState(backbone, TuningMethod.PrefixTuning);

        var recomputed = Train(backbone, initial, examples, Settings(cacheBytes: 0, ScalarType.Float32));
        var cachedFp32 = Train(backbone, initial, examples, Settings(BelowPrefixCache.DefaultBytes, ScalarType.Float32));
        var cachedBf16 = Train(backbone, initial, examples, Settings(BelowPrefixCache.DefaultBytes, ScalarType.BFloat16));

        long tokens = examples.Sum(e => (long)e.Tokens.InputIds.Length);
        Assert.Equal((0, 3L * examples.Count), (recomputed.Cached, recomputed.Recomputed));
        Assert.Equal((examples.Count, 0L, tokens * Config.HiddenSize * 4), (cachedFp32.Cached, cachedFp32.Recomputed, cachedFp32.Bytes));
        Assert.Equal((examples.Count, tokens * Config.HiddenSize * 2), (cachedBf16.Cached, cachedBf16.Bytes));
        Assert.True(recomputed.Losses[^1] < recomputed.Losses[0], $"the run did not learn: {string.Join(", ", recomputed.Losses)}");
        for (int epoch = 0; epoch < 3; epoch++)
        {
            // fp32: the same values up to the rounding of a batch's padding width (each epoch pads an example differently).
            Assert.True(Math.Abs(cachedFp32.Losses[epoch] - recomputed.Losses[epoch]) < 1e-5,
                $"epoch {epoch + 1}: fp32 cache {cachedFp32.Losses[epoch]}, recomputed {recomputed.Losses[epoch]}");
            // bf16 keeps 8 bits of mantissa: the stated tolerance is 1 % of the loss.
            Assert.True(Math.Abs(cachedBf16.Losses[epoch] - recomputed.Losses[epoch]) < 0.01 * recomputed.Losses[epoch],
                $"epoch {epoch + 1}: bf16 cache {cachedBf16.Losses[epoch]}, recomputed {recomputed.Losses[epoch]}");
        }
    }

    [Fact]
    public void ACacheFullAtItsBoundRecomputesTheRest()
    {
        using var backbone = TinyEncoders.Random(Config, seed: 62);
        var examples = Examples(10, seed: 63);
        var initial = InitialState(backbone, TuningMethod.PrefixTuning);

        long bound = 12L * Config.HiddenSize * 2 * 3;   // room for about three of the longest examples
        var bounded = Train(backbone, initial, examples, Settings(bound, ScalarType.BFloat16));
        Assert.InRange(bounded.Cached, 3, examples.Count - 1);
        Assert.True(bounded.Bytes <= bound);
        // An example never held was computed in all 3 epochs; one held from epoch 2 or 3 on, in the epochs before.
        Assert.InRange(bounded.Recomputed, 3L * (examples.Count - bounded.Cached), 3L * examples.Count - bounded.Cached);
    }

    [Fact]
    public void TheLinearProbeReadsFrozenFeaturesCachedOncePerExample()
    {
        // The encoder's own dropout is on: a probe's features are still the eval-mode ones, in training too.
        var dropping = Config with { HiddenDropoutProb = 0.3, AttentionProbsDropoutProb = 0.3 };
        using var backbone = TinyEncoders.Random(dropping, seed: 64);
        using var probe = Model(backbone, TuningMethod.LinearProbe);
        Assert.Equal(dropping.NumHiddenLayers, probe.LayersBelowPrefix);
        using var ids = torch.tensor(new long[] { 0, 7, 9, 11, 2, 0, 8, 5, 2, 1 }, dtype: ScalarType.Int64).view(2, 5);
        using var mask = torch.tensor(new long[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 }, dtype: ScalarType.Int64).view(2, 5);
        probe.eval();
        using var evaluated = probe.forward(ids, mask, null);
        probe.train();
        using var trained = probe.forward(ids, mask, null);
        Assert.Equal(0.0, TinyEncoders.MaxAbsDiff(evaluated, trained));
        backbone.eval();
        using var hidden = backbone.forward(ids, mask, null, null, null);
        using var byHand = probe.Head.Classify(hidden, mask);
        Assert.True(TinyEncoders.MaxAbsDiff(byHand, evaluated) < 1e-6, "the probe's logits are not the head over the encoder's last hidden state");

        var examples = Examples(18, seed: 65);
        var initial = InitialState(backbone, TuningMethod.LinearProbe);
        var recomputed = Train(backbone, initial, examples, Settings(cacheBytes: 0, ScalarType.Float32), TuningMethod.LinearProbe);
        var cached = Train(backbone, initial, examples, Settings(BelowPrefixCache.DefaultBytes, ScalarType.Float32), TuningMethod.LinearProbe);
        Assert.Equal((examples.Count, 0L), (cached.Cached, cached.Recomputed));
        Assert.True(recomputed.Losses[^1] < recomputed.Losses[0], $"the probe did not learn: {string.Join(", ", recomputed.Losses)}");
        for (int epoch = 0; epoch < 3; epoch++)
        {
            Assert.True(Math.Abs(cached.Losses[epoch] - recomputed.Losses[epoch]) < 1e-5,
                $"epoch {epoch + 1}: cached {cached.Losses[epoch]}, recomputed {recomputed.Losses[epoch]}");
        }
    }
}
