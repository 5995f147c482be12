using Xunit;

namespace Microsoft.ML.PTuning.Tests.Checkpoints;

/// <summary>The ONNX Runtime reference the parity tests rely on behaves like an encoder on padded batches.</summary>
public class OnnxReferenceTests
{
    [Fact]
    public void PaddedBatchRowMatchesTheSameSentenceAlone()
    {
        long[,] ids = { { 101, 7592, 2088, 102, 0, 0 }, { 101, 2023, 2003, 1037, 3231, 102 } };
        long[,] mask = { { 1, 1, 1, 1, 0, 0 }, { 1, 1, 1, 1, 1, 1 } };
        float[,,] batch = OnnxReference.LastHiddenState(ids, mask, new long[2, 6]);
        float[,,] alone = OnnxReference.LastHiddenState(new long[,] { { 101, 7592, 2088, 102 } }, new long[,] { { 1, 1, 1, 1 } }, new long[1, 4]);

        Assert.Equal(new[] { 2, 6, 384 }, new[] { batch.GetLength(0), batch.GetLength(1), batch.GetLength(2) });
        double maxDiff = 0, rowsApart = 0;
        for (int t = 0; t < 4; t++)
        {
            for (int h = 0; h < 384; h++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs(batch[0, t, h] - alone[0, t, h]));
                rowsApart = Math.Max(rowsApart, Math.Abs(batch[0, t, h] - batch[1, t, h]));
            }
        }
        Assert.True(maxDiff < 1e-4, $"padding changed the real tokens' states by {maxDiff}");
        Assert.True(rowsApart > 1e-2, "different sentences should give different states");
    }
}
