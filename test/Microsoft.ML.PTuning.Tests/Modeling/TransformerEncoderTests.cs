using Microsoft.ML.PTuning.Modeling;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Tests.Modeling;

public class TransformerEncoderTests
{
    [Fact]
    public void ParameterNamesAreTheHuggingFaceCheckpointNames()
    {
        using var encoder = TinyEncoders.Random(TinyEncoders.Roberta(), seed: 1);
        var names = encoder.named_parameters().Select(p => p.name).ToHashSet();
        var expected = new List<string>
        {
            "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight", "embeddings.token_type_embeddings.weight",
            "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias", "pooler.dense.weight", "pooler.dense.bias",
        };
        for (int i = 0; i < 2; i++)
        {
            foreach (string m in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                         "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm" })
            {
                expected.Add($"encoder.layer.{i}.{m}.weight");
                expected.Add($"encoder.layer.{i}.{m}.bias");
            }
        }
        Assert.Equal(expected.OrderBy(n => n), names.OrderBy(n => n));
        Assert.Equal(new long[] { 64, 32 }, encoder.get_parameter("encoder.layer.1.intermediate.dense.weight")!.shape);
        Assert.Equal(new long[] { 40, 32 }, encoder.get_parameter("embeddings.position_embeddings.weight")!.shape);
    }

    [Theory]
    [InlineData("roberta")]
    [InlineData("bert")]
    public void MatchesAnIndependentReferenceOfHfMathWithPrefixAndPadding(string family)
    {
        EncoderConfig config = family == "roberta" ? TinyEncoders.Roberta() : TinyEncoders.Bert();
        using var encoder = TinyEncoders.Random(config, seed: 2);
        using var scope = torch.NewDisposeScope();
        var (ids, mask) = TinyEncoders.PaddedBatch(config, seed: 3, 5, 3);
        Tensor types = family == "bert" ? torch.tensor(new long[,] { { 0, 0, 1, 1, 1 }, { 0, 1, 1, 0, 0 } }) : torch.zeros_like(ids);
        torch.manual_seed(4);
        var prefix = new PastKeyValues(torch.randn([2 * 2, 2, 4, 3, 8]));

        using (torch.no_grad())
        {
            Tensor ours = encoder.forward(ids, mask, types, prefix, null);
            Tensor reference = ReferenceEncoder.Forward(encoder, config, ids, mask, types, prefix);
            Assert.Equal(new long[] { 2, 5, 32 }, ours.shape);
            Assert.True(TinyEncoders.MaxAbsDiff(ours, reference) < 1e-5, $"max diff {TinyEncoders.MaxAbsDiff(ours, reference)}");
        }
    }

    [Theory]
    [InlineData("roberta", "none")]
    [InlineData("roberta", "prefix")]
    [InlineData("roberta", "prompt")]
    [InlineData("bert", "none")]
    [InlineData("bert", "prefix")]
    [InlineData("bert", "prompt")]
    public void ASentenceGivesTheSameOutputAloneAndInsideAPaddedBatch(string family, string adapter)
    {
        EncoderConfig config = family == "roberta" ? TinyEncoders.Roberta() : TinyEncoders.Bert();
        using var encoder = TinyEncoders.Random(config, seed: 5);
        using var scope = torch.NewDisposeScope();
        var (ids, mask) = TinyEncoders.PaddedBatch(config, seed: 6, 7, 4, 2);
        torch.manual_seed(7);
        Tensor kv = torch.randn([4, 1, 4, 3, 8]);
        Tensor prompt = torch.randn(1, 2, 32);

        Tensor Run(Tensor i, Tensor m)
        {
            long b = i.shape[0];
            PastKeyValues? prefix = adapter == "prefix" ? new PastKeyValues(kv.expand(-1, b, -1, -1, -1)) : null;
            Tensor? p = adapter == "prompt" ? prompt.expand(b, -1, -1) : null;
            return encoder.forward(i, m, null, prefix, p);
        }

        using (torch.no_grad())
        {
            Tensor batch = Run(ids, mask);
            int promptLength = adapter == "prompt" ? 2 : 0;
            Tensor alone = Run(ids[1..2, ..4], mask[1..2, ..4]);
            Tensor inBatch = batch[1..2, ..(promptLength + 4)];
            Assert.True(TinyEncoders.MaxAbsDiff(alone, inBatch) <= 1e-5, $"max diff {TinyEncoders.MaxAbsDiff(alone, inBatch)}");
            // Dropping the padding must matter to nothing, but the sentence must matter: another row differs.
            Assert.True(TinyEncoders.MaxAbsDiff(batch[0, 0], batch[1, 0]) > 1e-3);
        }
    }

    [Fact]
    public void AZeroLengthPrefixEqualsThePlainEncoder()
    {
        EncoderConfig config = TinyEncoders.Roberta();
        using var encoder = TinyEncoders.Random(config, seed: 8);
        using var scope = torch.NewDisposeScope();
        var (ids, mask) = TinyEncoders.PaddedBatch(config, seed: 9, 6, 3);
        using (torch.no_grad())
        {
            Tensor plain = encoder.forward(ids, mask, null, null, null);
            Tensor empty = encoder.forward(ids, mask, null, new PastKeyValues(torch.zeros([4, 2, 4, 0, 8])), null);
            Assert.Equal(0.0, TinyEncoders.MaxAbsDiff(plain, empty));
            Tensor withPrefix = encoder.forward(ids, mask, null, new PastKeyValues(torch.randn([4, 2, 4, 2, 8])), null);
            Assert.True(TinyEncoders.MaxAbsDiff(plain, withPrefix) > 1e-3, "a non-empty prefix must change the output");
        }
    }

    [Fact]
    public void PaddedKeysAreNeverAttendedWhateverTheirIds()
    {
        EncoderConfig config = TinyEncoders.Roberta();
        using var encoder = TinyEncoders.Random(config, seed: 10);
        using var scope = torch.NewDisposeScope();
        Tensor ids = torch.tensor(new long[,] { { 0, 5, 6, 2, 1, 1 } });
        Tensor mask = torch.tensor(new long[,] { { 1, 1, 1, 1, 0, 0 } });
        Tensor otherPads = torch.tensor(new long[,] { { 0, 5, 6, 2, 99, 42 } });   // different ids under mask 0
        using (torch.no_grad())
        {
            Tensor a = encoder.forward(ids, mask, null, null, null)[.., ..4];
            Tensor b = encoder.forward(otherPads, mask, null, null, null)[.., ..4];
            // Positions of 99/42 differ from a pad's, embeddings differ; the real tokens must not see either.
            Assert.True(TinyEncoders.MaxAbsDiff(a, b) <= 1e-5);
        }
    }

    [Fact]
    public void TooManyPositionsIsAnErrorNamingTheLengths()
    {
        EncoderConfig config = TinyEncoders.Roberta();   // 40 positions, pad 1 → 38 usable
        using var encoder = TinyEncoders.Random(config, seed: 11);
        using var scope = torch.NewDisposeScope();
        Tensor ids = torch.full([1, 30], 5L, dtype: ScalarType.Int64);
        var e = Assert.Throws<ArgumentException>(() => encoder.forward(ids, torch.ones_like(ids), null, new PastKeyValues(torch.zeros([4, 1, 4, 10, 8])), null));
        Assert.Contains("30 tokens", e.Message);
        Assert.Contains("prefix of 10", e.Message);
        Assert.Contains("40", e.Message);
        encoder.forward(ids, torch.ones_like(ids), null, new PastKeyValues(torch.zeros([4, 1, 4, 8, 8])), null).Dispose();   // 38 fits
    }

    [Fact]
    public void MismatchedPrefixShapeIsRejected()
    {
        using var encoder = TinyEncoders.Random(TinyEncoders.Roberta(), seed: 12);
        using var scope = torch.NewDisposeScope();
        Tensor ids = torch.full([2, 4], 5L, dtype: ScalarType.Int64);
        var e = Assert.Throws<ArgumentException>(() => encoder.forward(ids, torch.ones_like(ids), null, new PastKeyValues(torch.zeros([6, 2, 4, 3, 8])), null));
        Assert.Contains("[4, 2, 4, 3, 8]", e.Message);
    }

    [Fact]
    public void CloneIsEqualAndIndependent()
    {
        using var encoder = TinyEncoders.Random(TinyEncoders.Bert(), seed: 13);
        foreach (var p in encoder.parameters())
            p.requires_grad = false;
        using var copy = encoder.Clone();
        using var scope = torch.NewDisposeScope();
        var (ids, mask) = TinyEncoders.PaddedBatch(encoder.Config, seed: 14, 5, 2);
        using (torch.no_grad())
        {
            Assert.Equal(0.0, TinyEncoders.MaxAbsDiff(encoder.forward(ids, mask, null, null, null), copy.forward(ids, mask, null, null, null)));
            Assert.All(copy.parameters(), p => Assert.True(p.requires_grad));
            copy.get_parameter("encoder.layer.0.intermediate.dense.bias")!.add_(1.0);   // (a uniform shift before a LayerNorm would cancel)
            Assert.True(TinyEncoders.MaxAbsDiff(encoder.forward(ids, mask, null, null, null), copy.forward(ids, mask, null, null, null)) > 1e-3);
        }
    }
}
