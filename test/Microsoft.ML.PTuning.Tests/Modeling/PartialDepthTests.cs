using Microsoft.ML.PTuning.Modeling;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Tests.Modeling;

/// <summary>The prefix in the top k layers only (PrefixDepth): the encoder's math, the split pass, and k = L.</summary>
public class PartialDepthTests
{
    [Theory]
    [InlineData("roberta")]
    [InlineData("bert")]
    public void APrefixOverTheTopLayerMatchesTheReferenceWholeAndSplitBelowAndAbove(string family)
    {
        EncoderConfig config = family == "roberta" ? TinyEncoders.Roberta() : TinyEncoders.Bert();
        using var encoder = TinyEncoders.Random(config, seed: 40);
        using var scope = torch.NewDisposeScope();
        var (ids, mask) = TinyEncoders.PaddedBatch(config, seed: 41, 6, 3);
        Tensor types = torch.zeros_like(ids);
        torch.manual_seed(42);
        var prefix = new PastKeyValues(torch.randn([2 * 1, 2, 4, 3, 8]));   // layer 1 of 2 only

        using (torch.no_grad())
        {
            Tensor reference = ReferenceEncoder.Forward(encoder, config, ids, mask, types, prefix);
            Tensor whole = encoder.forward(ids, mask, types, prefix, null);
            Tensor split = encoder.ForwardAbove(encoder.ForwardBelow(ids, mask, types, prefixLength: 3, layers: 1), mask, prefix);
            Assert.True(TinyEncoders.MaxAbsDiff(whole, reference) < 1e-5, $"whole: max diff {TinyEncoders.MaxAbsDiff(whole, reference)}");
            Assert.True(TinyEncoders.MaxAbsDiff(split, reference) < 1e-5, $"split: max diff {TinyEncoders.MaxAbsDiff(split, reference)}");

            // The layer below must not see the prefix: a full-depth prefix whose top half is the same gives another result.
            var deep = new PastKeyValues(torch.cat([torch.randn([2, 2, 4, 3, 8]), prefix.KeyValues], 0));
            Assert.True(TinyEncoders.MaxAbsDiff(encoder.forward(ids, mask, types, deep, null), reference) > 1e-3);
        }
    }

    [Fact]
    public void DepthEqualToTheLayerCountIsFullDepth()
    {
        EncoderConfig config = TinyEncoders.Roberta();
        using var backbone = TinyEncoders.Random(config, seed: 43);
        using var scope = torch.NewDisposeScope();
        using var full = new PrefixTunedModel(backbone, TaskKind.SequenceClassification, 3, TuningMethod.PrefixTuning, prefixLength: 4);
        using var deep = new PrefixTunedModel(backbone, TaskKind.SequenceClassification, 3, TuningMethod.PrefixTuning, prefixLength: 4,
            prefixDepth: config.NumHiddenLayers);
        Assert.Equal(0, deep.LayersBelowPrefix);
        deep.LoadAdapterStateDict(full.AdapterStateDict());   // the same trained state: the same shapes, names and values

        var (ids, mask) = TinyEncoders.PaddedBatch(config, seed: 45, 5, 2, 4);
        full.eval();
        deep.eval();
        using (torch.no_grad())
            Assert.Equal(0.0, TinyEncoders.MaxAbsDiff(full.forward(ids, mask, null), deep.forward(ids, mask, null)));
    }

    [Fact]
    public void BelowThePrefixRunsWithoutGradientsOrDropoutAndKeepsTheTrainingMode()
    {
        EncoderConfig config = TinyEncoders.Roberta() with { HiddenDropoutProb = 0.5, AttentionProbsDropoutProb = 0.5 };
        using var backbone = TinyEncoders.Random(config, seed: 46);
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(47);
        using var model = new PrefixTunedModel(backbone, TaskKind.SequenceClassification, 3, TuningMethod.PrefixTuning, prefixLength: 4,
            prefixDepth: 1);
        Assert.Equal(1, model.LayersBelowPrefix);
        Assert.Equal(new long[] { 4, 2 * 1 * 32 }, model.Prefix!.Table().shape);
        var (ids, mask) = TinyEncoders.PaddedBatch(config, seed: 48, 5, 3);

        model.train();
        Tensor first = model.ForwardBelowPrefix(ids, mask, null);
        Tensor second = model.ForwardBelowPrefix(ids, mask, null);
        Assert.True(backbone.training);
        Assert.False(first.requires_grad);
        Assert.Equal(0.0, TinyEncoders.MaxAbsDiff(first, second));
        model.eval();
        Assert.Equal(0.0, TinyEncoders.MaxAbsDiff(first, model.ForwardBelowPrefix(ids, mask, null)));

        // Gradients reach the prefix (and the head) through the layer above.
        model.train();
        Tensor loss = nn.functional.cross_entropy(model.forward(ids, mask, null), torch.tensor(new long[] { 0, 2 }));
        loss.backward();
        Assert.NotNull(model.Prefix.parameters().First().grad);
        Assert.All(backbone.parameters(), p => Assert.Null(p.grad));
    }

    [Fact]
    public void AbovePrefixGivesARowTheSameLogitsAloneAndZeroPaddedInABatch()
    {
        EncoderConfig config = TinyEncoders.Bert();
        using var backbone = TinyEncoders.Random(config, seed: 49);
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(50);
        using var model = new PrefixTunedModel(backbone, TaskKind.TokenClassification, 3, TuningMethod.PrefixTuning, prefixLength: 2,
            prefixDepth: 1);
        model.eval();
        var (ids, mask) = TinyEncoders.PaddedBatch(config, seed: 51, 6, 2);
        using (torch.no_grad())
        {
            Tensor below = model.ForwardBelowPrefix(ids, mask, null);
            // Row 1 cut to its 2 tokens, then zero-padded back: what the training cache does.
            Tensor alone = below[1].narrow(0, 0, 2);
            Tensor zeroPadded = torch.stack([below[0], nn.functional.pad(alone, new long[] { 0, 0, 0, 4 })], 0);
            Tensor expected = model.forward(ids, mask, null);
            Tensor actual = model.ForwardAbovePrefix(zeroPadded, mask);
            Assert.True(TinyEncoders.MaxAbsDiff(expected[1].narrow(0, 0, 2), actual[1].narrow(0, 0, 2)) < 1e-5);
            Assert.True(TinyEncoders.MaxAbsDiff(expected[0], actual[0]) < 1e-5);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void ADepthOutsideTheLayersIsRefused(int depth)
    {
        using var backbone = TinyEncoders.Random(TinyEncoders.Roberta(), seed: 52);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new PrefixTunedModel(backbone, TaskKind.SequenceClassification, 3, TuningMethod.PrefixTuning, prefixLength: 4, prefixDepth: depth));
        Assert.Equal("prefixDepth", e.ParamName);
        Assert.Contains("1 to 2", e.Message);
    }
}
