using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Tests.Modeling;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Tests.Prompting;

public class PromptVectorsTests
{
    // Prompt vectors that are some tokens' own word embeddings must give exactly the pass over those tokens: the slots
    // get the tokens' positions, types and the embedding LayerNorm, nothing else.
    [Theory]
    [InlineData("roberta")]
    [InlineData("bert")]
    public void InsertedVectorsEqualToWordEmbeddingsReproduceThePlainForward(string modelType)
    {
        var config = modelType == "bert" ? TinyEncoders.Bert() : TinyEncoders.Roberta();
        using var encoder = TinyEncoders.Random(config, seed: 21);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var (ids, mask) = TinyEncoders.PaddedBatch(config, seed: 4, 7, 5);
        Tensor types = modelType == "bert" ? torch.tensor(new long[,] { { 0, 0, 0, 1, 1, 1, 1 }, { 0, 0, 1, 1, 1, 0, 0 } }) : torch.zeros_like(ids);
        // Slots -1 and -2 at (row 0, 1), (row 0, 4), (row 1, 2): they stand for the tokens there.
        long[] tokens = [ids[0, 1].item<long>(), ids[0, 4].item<long>(), ids[1, 2].item<long>()];
        Tensor vectors = encoder.WordEmbeddingWeight.index_select(0, torch.tensor(tokens));
        Tensor slotted = ids.clone();
        slotted[0, 1] = torch.tensor(-1L);
        slotted[0, 4] = torch.tensor(-2L);
        slotted[1, 2] = torch.tensor(-3L);

        Tensor expected = encoder.forward(ids, mask, types, null, null);
        Tensor actual = encoder.ForwardWithInsertedPrompt(slotted, mask, types, vectors);
        double same = TinyEncoders.MaxAbsDiff(expected * mask.unsqueeze(-1), actual * mask.unsqueeze(-1));
        Assert.True(same < 1e-5, $"difference {same}; slotted {string.Join(",", slotted.data<long>().ToArray())}");

        // Other vectors (the same ones in another order) change the output; a slot beyond the vectors is refused naming it.
        Tensor other = encoder.ForwardWithInsertedPrompt(slotted, mask, types, vectors.flip(0));
        Assert.True(TinyEncoders.MaxAbsDiff(expected, other) > 1e-3);
        slotted[1, 3] = torch.tensor(-4L);
        Assert.Contains("-4", Assert.Throws<ArgumentException>(() => encoder.ForwardWithInsertedPrompt(slotted, mask, types, vectors)).Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TheFoldedTableIsWhatThePromptEncoderComputes(bool lstm)
    {
        torch.manual_seed(3);
        using var encoder = new PTuningPromptEncoder(length: 5, hiddenSize: 32, lstm);
        using var vectors = encoder.Vectors();
        Assert.Equal([5L, 32L], vectors.shape);
        Assert.Equal(lstm, encoder.named_parameters().Any(p => p.name.StartsWith("lstm_head.", StringComparison.Ordinal)));
        using var folded = encoder.Fold();
        double folding = TinyEncoders.MaxAbsDiff(vectors, folded.Table);
        Assert.True(folding < 1e-6, $"the folded table differs by {folding}");
        Assert.Single(folded.parameters());
        // Gradients reach the encoder's own parameters (the embedding and the MLP).
        vectors.sum().backward();
        Assert.All(encoder.parameters(), p => Assert.NotNull(p.grad));
    }
}
