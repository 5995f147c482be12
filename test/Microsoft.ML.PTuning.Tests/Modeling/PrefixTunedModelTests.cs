using Microsoft.ML.PTuning.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Tests.Modeling;

public class PrefixTunedModelTests
{
    private static Dictionary<string, Tensor> Snapshot(IEnumerable<(string name, Parameter parameter)> parameters) =>
        parameters.ToDictionary(p => p.name, p => p.parameter.detach().clone());

    private static bool BitIdentical(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    // One AdamW step on a cross-entropy loss over a padded batch.
    private static void Step(PrefixTunedModel model, EncoderConfig config, long seed)
    {
        using var scope = torch.NewDisposeScope();
        var (ids, mask) = TinyEncoders.PaddedBatch(config, seed, 6, 4, 3);
        model.train();
        Tensor logits = model.forward(ids, mask, null);
        Tensor loss = model.Task == TaskKind.TokenClassification
            ? nn.functional.cross_entropy(logits.reshape(-1, model.NumLabels), torch.randint(0, model.NumLabels, [logits.shape[0] * logits.shape[1]]))
            : nn.functional.cross_entropy(logits, torch.tensor(new long[] { 0, 2, 1 }));
        var optimizer = torch.optim.AdamW(model.TrainableParameters(), lr: 1e-2);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
    }

    [Theory]
    [InlineData("roberta", false)]
    [InlineData("roberta", true)]
    [InlineData("bert", false)]
    public void PrefixTuningStepLeavesEveryBackboneTensorBitIdenticalAndMovesPrefixAndHead(string family, bool projection)
    {
        EncoderConfig config = family == "roberta" ? TinyEncoders.Roberta() : TinyEncoders.Bert();
        using var backbone = TinyEncoders.Random(config, seed: 30);
        torch.manual_seed(31);
        using var model = new PrefixTunedModel(backbone, TaskKind.SequenceClassification, 3, TuningMethod.PrefixTuning,
            prefixLength: 4, prefixProjection: projection, prefixHiddenSize: 16);
        var backboneBefore = Snapshot(backbone.named_parameters());
        var adapterBefore = Snapshot(model.named_parameters());

        Step(model, config, seed: 32);

        Assert.All(backbone.named_parameters(), p => Assert.True(BitIdentical(backboneBefore[p.name], p.parameter), $"{p.name} changed"));
        Assert.All(backbone.parameters(), p => Assert.Null(p.grad));
        Assert.All(model.named_parameters(), p => Assert.False(BitIdentical(adapterBefore[p.name], p.parameter), $"{p.name} did not change"));
        Assert.Contains(model.named_parameters(), p => p.name.StartsWith("prefix_encoder.", StringComparison.Ordinal));
        Assert.Equal(model.parameters().Count(), model.TrainableParameters().Count);
    }

    [Fact]
    public void LinearProbeTrainsOnlyTheHead()
    {
        EncoderConfig config = TinyEncoders.Roberta();
        using var backbone = TinyEncoders.Random(config, seed: 33);
        using var model = new PrefixTunedModel(backbone, TaskKind.SequenceClassification, 3, TuningMethod.LinearProbe);
        Assert.Null(model.Prefix);
        Assert.Null(model.Prompt);
        Assert.Equal(
            new[] { "head.dense.weight", "head.dense.bias", "head.out_proj.weight", "head.out_proj.bias" }.Order(),
            model.named_parameters().Select(p => p.name).Order());
        var headBefore = Snapshot(model.named_parameters());
        var backboneBefore = Snapshot(backbone.named_parameters());

        Step(model, config, seed: 34);

        Assert.All(backbone.named_parameters(), p => Assert.True(BitIdentical(backboneBefore[p.name], p.parameter)));
        Assert.All(model.named_parameters(), p => Assert.False(BitIdentical(headBefore[p.name], p.parameter)));
        Assert.Equal(new[] { "classifier.dense.bias", "classifier.dense.weight", "classifier.out_proj.bias", "classifier.out_proj.weight" },
            model.AdapterStateDict().Keys.Order());
    }

    [Fact]
    public void FullFineTuningTrainsItsOwnCopyAndLeavesTheSharedBackboneAlone()
    {
        EncoderConfig config = TinyEncoders.Bert();
        using var shared = TinyEncoders.Random(config, seed: 35);
        using var frozenUser = new PrefixTunedModel(shared, TaskKind.SequenceClassification, 3);   // freezes `shared`
        var sharedBefore = Snapshot(shared.named_parameters());
        using var copy = shared.Clone();
        using var model = new PrefixTunedModel(copy, TaskKind.SequenceClassification, 3, TuningMethod.FullFineTuning);
        Assert.Equal(copy.parameters().Count() + 2, model.TrainableParameters().Count);   // + classifier weight, bias

        Step(model, config, seed: 36);

        Assert.All(shared.named_parameters(), p => Assert.True(BitIdentical(sharedBefore[p.name], p.parameter)));
        Assert.All(shared.parameters(), p => Assert.False(p.requires_grad));
        Assert.Contains(copy.named_parameters(), p => !BitIdentical(sharedBefore[p.name], p.parameter));
        var state = model.AdapterStateDict();
        Assert.Contains("bert.encoder.layer.1.output.LayerNorm.weight", state.Keys);
        Assert.Contains("bert.pooler.dense.weight", state.Keys);
        Assert.Contains("classifier.weight", state.Keys);
        Assert.DoesNotContain(PrefixTunedModel.PromptEmbeddingsKey, state.Keys);
    }

    [Fact]
    public void PromptTuningReadsTheRealTokensForBothHeads()
    {
        EncoderConfig config = TinyEncoders.Roberta();
        using var backbone = TinyEncoders.Random(config, seed: 37);
        torch.manual_seed(38);
        using var tokens = new PrefixTunedModel(backbone, TaskKind.TokenClassification, 5, TuningMethod.PromptTuning, prefixLength: 3);
        using var sequence = new PrefixTunedModel(backbone, TaskKind.SequenceClassification, 2, TuningMethod.PromptTuning, prefixLength: 3);
        tokens.eval();
        sequence.eval();
        using var scope = torch.NewDisposeScope();
        var (ids, mask) = TinyEncoders.PaddedBatch(config, seed: 39, 6, 2);
        using (torch.no_grad())
        {
            Assert.Equal(new long[] { 2, 6, 5 }, tokens.forward(ids, mask, null).shape);

            // The sequence head must read <s> at index P of the encoder output, not the first prompt vector.
            Tensor hidden = backbone.forward(ids, mask, null, null, sequence.Prompt!.forward(2));
            Tensor expected = sequence.Head.forward(hidden.narrow(1, 3, 6));
            Tensor wrong = sequence.Head.forward(hidden);
            Tensor actual = sequence.forward(ids, mask, null);
            Assert.True(TinyEncoders.MaxAbsDiff(expected, actual) < 1e-6);
            Assert.True(TinyEncoders.MaxAbsDiff(wrong, actual) > 1e-4);
        }
        Assert.Equal(new long[] { 3, 32 }, sequence.AdapterStateDict()[PrefixTunedModel.PromptEmbeddingsKey].shape);
    }

    [Theory]
    [InlineData("roberta", TaskKind.SequenceClassification)]
    [InlineData("bert", TaskKind.SequenceClassification)]
    [InlineData("roberta", TaskKind.TokenClassification)]
    public void AdapterStateRoundTripsIntoAFreshModelWithTheFoldedPrefix(string family, TaskKind task)
    {
        EncoderConfig config = family == "roberta" ? TinyEncoders.Roberta() : TinyEncoders.Bert();
        using var backbone = TinyEncoders.Random(config, seed: 40);
        torch.manual_seed(41);
        using var trained = new PrefixTunedModel(backbone, task, 4, TuningMethod.PrefixTuning, prefixLength: 5, prefixProjection: true, prefixHiddenSize: 16);
        Step(trained, config, seed: 42);
        Dictionary<string, Tensor> state = trained.AdapterStateDict();

        string[] head = task == TaskKind.TokenClassification || family == "bert"
            ? ["classifier.bias", "classifier.weight"]
            : ["classifier.dense.bias", "classifier.dense.weight", "classifier.out_proj.bias", "classifier.out_proj.weight"];
        Assert.Equal(head.Append(PrefixTunedModel.PromptEmbeddingsKey).Order(), state.Keys.Order());
        Assert.Equal(new long[] { 5, 2 * 2 * 32 }, state[PrefixTunedModel.PromptEmbeddingsKey].shape);

        torch.manual_seed(43);
        using var restored = new PrefixTunedModel(backbone, task, 4, TuningMethod.PrefixTuning, prefixLength: 5, prefixProjection: true, prefixHiddenSize: 16);
        restored.LoadAdapterStateDict(state);
        Assert.False(restored.Prefix!.IsReparameterized);

        trained.eval();
        restored.eval();
        using var scope = torch.NewDisposeScope();
        var (ids, mask) = TinyEncoders.PaddedBatch(config, seed: 44, 7, 3);
        using (torch.no_grad())
        {
            Tensor a = trained.forward(ids, mask, null), b = restored.forward(ids, mask, null);
            Assert.True(TinyEncoders.MaxAbsDiff(a, b) < 1e-5, $"max diff {TinyEncoders.MaxAbsDiff(a, b)}");
        }
    }

    [Fact]
    public void FoldingTheMlpPrefixKeepsTheModelOutput()
    {
        EncoderConfig config = TinyEncoders.Roberta();
        using var backbone = TinyEncoders.Random(config, seed: 45);
        torch.manual_seed(46);
        using var model = new PrefixTunedModel(backbone, TaskKind.SequenceClassification, 3, prefixLength: 4, prefixProjection: true, prefixHiddenSize: 16);
        model.eval();
        using var scope = torch.NewDisposeScope();
        var (ids, mask) = TinyEncoders.PaddedBatch(config, seed: 47, 5, 5);
        using (torch.no_grad())
        {
            Tensor before = model.forward(ids, mask, null);
            model.FoldPrefix();
            Assert.False(model.Prefix!.IsReparameterized);
            Assert.Equal(new[] { "prefix_encoder.embedding.weight" }, model.named_parameters().Select(p => p.name).Where(n => n.StartsWith("prefix")));
            Tensor after = model.forward(ids, mask, null);
            Assert.True(TinyEncoders.MaxAbsDiff(before, after) < 1e-5);
        }
    }

    [Fact]
    public void LoadingAWrongAdapterNamesTheTensors()
    {
        using var backbone = TinyEncoders.Random(TinyEncoders.Roberta(), seed: 48);
        using var model = new PrefixTunedModel(backbone, TaskKind.SequenceClassification, 3, prefixLength: 4);
        Dictionary<string, Tensor> state = model.AdapterStateDict();

        var wrongShape = new Dictionary<string, Tensor>(state) { ["classifier.out_proj.weight"] = torch.zeros(7, 32) };
        var e = Assert.Throws<ArgumentException>(() => model.LoadAdapterStateDict(wrongShape));
        Assert.Contains("classifier.out_proj.weight", e.Message);
        Assert.Contains("[7, 32]", e.Message);
        Assert.Contains("[3, 32]", e.Message);

        var incomplete = new Dictionary<string, Tensor>(state);
        incomplete.Remove("classifier.dense.bias");
        incomplete.Remove(PrefixTunedModel.PromptEmbeddingsKey);
        incomplete["lm_head.bias"] = torch.zeros(3);
        e = Assert.Throws<ArgumentException>(() => model.LoadAdapterStateDict(incomplete));
        Assert.Contains("classifier.dense.bias", e.Message);
        Assert.Contains(PrefixTunedModel.PromptEmbeddingsKey, e.Message);
        Assert.Contains("lm_head.bias", e.Message);
    }

    [Fact]
    public void TheSharedBackboneIsNotPartOfTheModelsStateAndOutlivesIt()
    {
        EncoderConfig config = TinyEncoders.Roberta();
        using var backbone = TinyEncoders.Random(config, seed: 49);
        var model = new PrefixTunedModel(backbone, TaskKind.SequenceClassification, 3, prefixLength: 2);
        Assert.DoesNotContain(model.state_dict().Keys, k => k.Contains("embeddings", StringComparison.Ordinal));
        model.eval();
        Assert.False(backbone.training);
        model.train();
        Assert.True(backbone.training);
        model.Dispose();

        backbone.eval();
        using var scope = torch.NewDisposeScope();
        var (ids, mask) = TinyEncoders.PaddedBatch(config, seed: 50, 4);
        using (torch.no_grad())
            Assert.Equal(new long[] { 1, 4, 32 }, backbone.forward(ids, mask, null, null, null).shape);
    }

    [Fact]
    public void MovingTheModelMovesTheSharedBackboneWithIt()
    {
        EncoderConfig config = TinyEncoders.Bert();
        using var backbone = TinyEncoders.Random(config, seed: 52);
        using var model = new PrefixTunedModel(backbone, TaskKind.TokenClassification, 3, prefixLength: 2);
        model.to(ScalarType.Float64);
        Assert.All(backbone.parameters(), p => Assert.Equal(ScalarType.Float64, p.dtype));
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float64, p.dtype));
        model.eval();
        using var scope = torch.NewDisposeScope();
        var (ids, mask) = TinyEncoders.PaddedBatch(config, seed: 53, 4, 2);
        using (torch.no_grad())
            Assert.Equal(ScalarType.Float64, model.forward(ids, mask, null).dtype);
    }

    [Fact]
    public void BertSequenceHeadNeedsThePooler()
    {
        using var backbone = TinyEncoders.Random(TinyEncoders.Bert(), seed: 51, addPoolingLayer: false);
        var e = Assert.Throws<ArgumentException>(() => new PrefixTunedModel(backbone, TaskKind.SequenceClassification, 2));
        Assert.Contains("pooler", e.Message);
    }
}
