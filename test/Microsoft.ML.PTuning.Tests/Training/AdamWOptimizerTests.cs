using Microsoft.ML.PTuning.Training;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Training;

public class AdamWOptimizerTests
{
    // Two groups (different rates, one with weight decay), a rate changed between steps as the schedule does, and a
    // parameter that gets no gradient: the library's AdamW and TorchSharp's must move every weight to the same bits.
    [Fact]
    public void EveryStepEqualsTorchSharpsAdamW()
    {
        var (ours, oursParams) = Parameters();
        var (theirs, theirsParams) = Parameters();
        using var optimizer = new AdamWOptimizer([new([ours[0], ours[1]], 3e-3, 0.01), new([ours[2], ours[3]], 1e-2, 0)]);
        using var reference = torch.optim.AdamW(
        [
            new AdamW.ParamGroup([theirs[0], theirs[1]], new AdamW.Options { LearningRate = 3e-3, weight_decay = 0.01 }),
            new AdamW.ParamGroup([theirs[2], theirs[3]], new AdamW.Options { LearningRate = 1e-2, weight_decay = 0 }),
        ]);

        for (int step = 0; step < 5; step++)
        {
            double factor = 1.0 - step / 10.0;
            optimizer.ParamGroups[0].LearningRate = 3e-3 * factor;
            reference.ParamGroups.First().LearningRate = 3e-3 * factor;
            optimizer.ZeroGrad();
            reference.zero_grad();
            Loss(oursParams, step).backward();
            Loss(theirsParams, step).backward();
            optimizer.Step();
            reference.step();
            for (int i = 0; i < ours.Length; i++)
                Assert.True(ours[i].eq(theirs[i]).all().item<bool>(), $"parameter {i} differs after step {step + 1}: max |Δ| {(ours[i] - theirs[i]).abs().max().item<float>()}");
        }

        Assert.Equal([5L, 5L, 5L, 0L], optimizer.State.Select(s => s.Step));
        var initial = Parameters().Values;
        Assert.True(ours[3].eq(initial[3]).all().item<bool>(), "a parameter without a gradient must not move");
        Assert.False(ours[0].eq(initial[0]).all().item<bool>(), "a trained parameter must move");
    }

    private static (Parameter[] Values, Parameter[] Used) Parameters()
    {
        torch.manual_seed(7);
        Parameter[] values = [new(torch.randn(4, 3)), new(torch.randn(4)), new(torch.randn(3, 2)), new(torch.randn(2))];
        return (values, values[..3]);
    }

    private static torch.Tensor Loss(Parameter[] used, int step)
    {
        torch.manual_seed(100 + step);
        var x = torch.randn(6, 3);
        var hidden = torch.tanh(torch.matmul(x, used[0].t()) + used[1]);
        return (torch.matmul(hidden[.., ..3], used[2]).pow(2)).mean();
    }
}
