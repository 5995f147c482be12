using System.Diagnostics;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Benchmarks;

/// <summary>
/// The matmul ceiling of one element type: best GFLOP/s of a plain TorchSharp n×n by n×n matmul (2n³ FLOPs) over
/// several repeats after one warm-up. fp32 and bf16 use the same shape, so their ratio is the speed-up bf16 can give.
/// </summary>
internal static class MatmulCeiling
{
    public static double Gflops(int n, int repeats, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var a = randn(n, n).to(dtype);
        var b = randn(n, n).to(dtype);
        matmul(a, b).Dispose();
        double best = double.MaxValue;
        for (int i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            matmul(a, b).Dispose();
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return 2.0 * n * n * n / best / 1e9;
    }
}
