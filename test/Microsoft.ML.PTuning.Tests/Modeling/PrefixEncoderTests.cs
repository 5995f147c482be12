using Microsoft.ML.PTuning.Modeling;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Tests.Modeling;

public class PrefixEncoderTests
{
    [Fact]
    public void NamesFollowPTuningV2()
    {
        using var flat = new PrefixEncoder(TinyEncoders.Roberta(), length: 5);
        Assert.Equal(new[] { "embedding.weight" }, flat.named_parameters().Select(p => p.name));
        Assert.Equal(new long[] { 5, 2 * 2 * 32 }, flat.Table().shape);

        using var mlp = new PrefixEncoder(TinyEncoders.Roberta(), length: 5, projection: true, projectionHiddenSize: 24);
        Assert.Equal(
            new[] { "embedding.weight", "trans.0.weight", "trans.0.bias", "trans.2.weight", "trans.2.bias" },
            mlp.named_parameters().Select(p => p.name));
        Assert.Equal(new long[] { 5, 32 }, mlp.get_parameter("embedding.weight")!.shape);
        Assert.Equal(new long[] { 128, 24 }, mlp.get_parameter("trans.2.weight")!.shape);
    }

    [Fact]
    public void KeysAndValuesAreLaidOutAsPTuningV2ViewsAndPermutesThem()
    {
        EncoderConfig config = TinyEncoders.Roberta();   // L=2, H=32, 4 heads of 8
        torch.manual_seed(20);
        using var prefix = new PrefixEncoder(config, length: 3, dropout: 0.0);
        using var scope = torch.NewDisposeScope();
        PastKeyValues kv = prefix.forward(2);
        Assert.Equal(new long[] { 4, 2, 4, 3, 8 }, kv.KeyValues.shape);
        Assert.Equal((2, 3), (kv.LayerCount, kv.Length));

        // Row p of the table is [2L, heads, head_dim] flattened: layer 1's value, head 2, prefix row 1, batch element 1.
        float[] table = prefix.Table().detach().data<float>().ToArray();
        float[] value = kv.Value(1)[1, 2, 1].data<float>().ToArray();
        int width = 2 * 2 * 32, offset = 1 * width + (2 * 1 + 1) * 32 + 2 * 8;
        Assert.Equal(table.Skip(offset).Take(8), value);
    }

    [Fact]
    public void FoldGivesTheSameKeysAndValuesWithoutTheMlp()
    {
        torch.manual_seed(21);
        using var mlp = new PrefixEncoder(TinyEncoders.Bert(), length: 4, projection: true, projectionHiddenSize: 16);
        mlp.eval();
        using var folded = mlp.Fold();
        using var scope = torch.NewDisposeScope();
        Assert.False(folded.IsReparameterized);
        using (torch.no_grad())
        {
            Tensor a = mlp.forward(3).KeyValues, b = folded.forward(3).KeyValues;
            Assert.True(TinyEncoders.MaxAbsDiff(a, b) < 1e-6);
        }
        // The fold is a copy: changing it leaves the original alone.
        using (torch.no_grad())
            folded.get_parameter("embedding.weight")!.add_(1.0);
        Assert.True(TinyEncoders.MaxAbsDiff(mlp.Table(), folded.Table()) > 0.5);
    }

    [Fact]
    public void DropoutActsOnlyWhileTraining()
    {
        torch.manual_seed(22);
        using var prefix = new PrefixEncoder(TinyEncoders.Roberta(), length: 6, dropout: 0.5);
        using var scope = torch.NewDisposeScope();
        prefix.train();
        Tensor trained = prefix.forward(2).KeyValues;
        Assert.True(trained.eq(0).sum().item<long>() > 0);
        prefix.eval();
        Assert.Equal(0L, prefix.forward(2).KeyValues.eq(0).sum().item<long>());
    }

    [Fact]
    public void PromptFromVocabularyStartsOnRealTokenVectors()
    {
        torch.manual_seed(23);
        Tensor vocab = torch.randn(50, 16);
        using var prompt = PromptEncoder.FromVocabulary(vocab, length: 4);
        using var scope = torch.NewDisposeScope();
        Tensor rows = prompt.Table.detach();
        for (int i = 0; i < 4; i++)
        {
            Tensor distance = (vocab - rows[i]).abs().sum(1);
            Assert.Equal(0f, distance.min().item<float>());
        }
        Assert.Equal(new long[] { 3, 4, 16 }, prompt.forward(3).shape);
        Assert.Equal(new[] { "embedding.weight" }, prompt.named_parameters().Select(p => p.name));
    }
}
