using Microsoft.ML.PTuning.Training;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Training;

public class LengthGroupedOrderTests
{
    private static int[] Lengths(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => random.Next(2, 130)).ToArray();
    }

    /// <summary>Tokens a batch computes: every row padded to the batch's longest.</summary>
    private static long PaddedTokens(IEnumerable<int[]> batches, int[] lengths) => batches.Sum(b => (long)b.Length * b.Max(i => lengths[i]));

    [Theory]
    [InlineData(1000, 16)]
    [InlineData(37, 8)]
    [InlineData(5, 16)]
    public void EveryExampleOnceInFullBatchesButTheLast(int count, int batchSize)
    {
        int[] lengths = Lengths(count, seed: 1);
        var batches = LengthGroupedOrder.Batches(new Random(2), lengths, batchSize);
        Assert.Equal(Enumerable.Range(0, count), batches.SelectMany(b => b).Order());
        Assert.Equal((count + batchSize - 1) / batchSize, batches.Count);
        Assert.Equal(count % batchSize == 0 ? 0 : 1, batches.Count(b => b.Length != batchSize));
        Assert.Contains(lengths.Max(), batches[0].Select(i => lengths[i]));   // the longest batch first
    }

    [Fact]
    public void GroupedBatchesPadFarLessThanShuffledOnes()
    {
        int[] lengths = Lengths(2000, seed: 3);
        long grouped = PaddedTokens(LengthGroupedOrder.Batches(new Random(4), lengths, 16), lengths);
        long shuffled = PaddedTokens(LengthGroupedOrder.Shuffled(new Random(4), lengths.Length, 16), lengths);
        long real = lengths.Sum(l => (long)l);
        Assert.True(grouped < 1.1 * real, $"grouped batches compute {grouped} tokens for {real} real ones");
        Assert.True(shuffled > 1.5 * real, $"shuffled batches compute {shuffled} tokens for {real} real ones");
    }

    [Fact]
    public void TheOrderIsSeededAndChangesWithTheSeed()
    {
        int[] lengths = Lengths(500, seed: 5);
        var a = LengthGroupedOrder.Batches(new Random(6), lengths, 16);
        var b = LengthGroupedOrder.Batches(new Random(6), lengths, 16);
        var c = LengthGroupedOrder.Batches(new Random(7), lengths, 16);
        Assert.Equal(a.SelectMany(x => x), b.SelectMany(x => x));
        Assert.NotEqual(a.SelectMany(x => x), c.SelectMany(x => x));
        // Which examples share a batch is random too, not only the batch order.
        Assert.NotEqual(a.Skip(1).Select(x => x.Order().First()).Order(), c.Skip(1).Select(x => x.Order().First()).Order());
    }

    [Fact]
    public void WithoutGroupingTheOrderIsThePlainShuffle()
    {
        int[] order = Enumerable.Range(0, 50).ToArray();
        new Random(8).Shuffle(order);
        Assert.Equal(order, LengthGroupedOrder.Shuffled(new Random(8), 50, 16).SelectMany(b => b));
    }
}
