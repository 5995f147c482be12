using Microsoft.ML.PTuning.Modeling;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Tests.Modeling;

public class PositionIdsTests
{
    // RoBERTa, pad id 1: <s>=0, </s>=2. Row 0 full, row 1 right-padded, row 2 left-padded.
    private static readonly long[,] Ids = { { 0, 5, 6, 7, 2 }, { 0, 8, 2, 1, 1 }, { 1, 1, 0, 9, 2 } };

    private static long[,] Positions(EncoderConfig config, long[,] ids, int past, int prompt)
    {
        using var scope = torch.NewDisposeScope();
        Tensor p = EncoderEmbeddings.PositionIds(config, torch.tensor(ids), past, prompt);
        long[] flat = p.data<long>().ToArray();
        var result = new long[p.shape[0], p.shape[1]];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(long));
        return result;
    }

    [Fact]
    public void RobertaCountsNonPadTokensFromPaddingIdxPlusOneAndGivesPadsThePaddingIdx()
    {
        long[,] expected = { { 2, 3, 4, 5, 6 }, { 2, 3, 4, 1, 1 }, { 1, 1, 2, 3, 4 } };
        Assert.Equal(expected, Positions(TinyEncoders.Roberta(), Ids, past: 0, prompt: 0));
    }

    [Fact]
    public void RobertaShiftsRealTokensByThePrefixLengthButNotPads()
    {
        // HF: (cumsum(mask) + past_key_values_length) * mask + padding_idx, with past = 3.
        long[,] expected = { { 5, 6, 7, 8, 9 }, { 5, 6, 7, 1, 1 }, { 1, 1, 5, 6, 7 } };
        Assert.Equal(expected, Positions(TinyEncoders.Roberta(), Ids, past: 3, prompt: 0));
    }

    [Fact]
    public void RobertaPromptVectorsComeFirstAndTokensFollowThem()
    {
        long[,] expected = { { 2, 3, 4, 5, 6, 7, 8 }, { 2, 3, 4, 5, 6, 1, 1 }, { 2, 3, 1, 1, 4, 5, 6 } };
        Assert.Equal(expected, Positions(TinyEncoders.Roberta(), Ids, past: 0, prompt: 2));
    }

    [Fact]
    public void BertCountsFromZeroOrFromThePrefixLengthRegardlessOfPadding()
    {
        long[,] ids = { { 101, 5, 102, 0 }, { 101, 6, 7, 102 } };
        Assert.Equal(new long[,] { { 0, 1, 2, 3 }, { 0, 1, 2, 3 } }, Positions(TinyEncoders.Bert(), ids, 0, 0));
        Assert.Equal(new long[,] { { 4, 5, 6, 7 }, { 4, 5, 6, 7 } }, Positions(TinyEncoders.Bert(), ids, 4, 0));
        Assert.Equal(new long[,] { { 4, 5, 6, 7, 8, 9 }, { 4, 5, 6, 7, 8, 9 } }, Positions(TinyEncoders.Bert(), ids, 4, 2));
    }

    [Fact]
    public void TheLastUsablePositionIsAcceptedAndOneMoreIsNot()
    {
        EncoderConfig config = TinyEncoders.Bert();   // 32 positions
        long[,] ids = new long[1, 30];
        Assert.Equal(31, Positions(config, ids, past: 2, prompt: 0)[0, 29]);
        var e = Assert.Throws<ArgumentException>(() => Positions(config, ids, past: 3, prompt: 0));
        Assert.Contains("33 positions", e.Message);
        Assert.Contains("max_position_embeddings 32", e.Message);
    }
}
