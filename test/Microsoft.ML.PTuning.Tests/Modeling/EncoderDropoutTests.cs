using Microsoft.ML.PTuning.Modeling;
using TorchSharp;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Modeling;

public class EncoderDropoutTests
{
    [Theory]
    [InlineData(torch.ScalarType.Float32)]
    [InlineData(torch.ScalarType.BFloat16)]
    public void InTrainModeItKeepsOneMinusPOfTheValuesScaledByTheirInverse(torch.ScalarType dtype)
    {
        torch.manual_seed(3);
        using var dropout = new EncoderDropout(0.25);
        dropout.train();
        using var input = torch.ones(200_000, dtype: dtype);
        using var output = dropout.forward(input).to_type(torch.ScalarType.Float32);
        Assert.Equal(dtype, dropout.forward(input).dtype);
        using var kept = output.ne(0);
        double keptFraction = kept.to_type(torch.ScalarType.Float64).mean().item<double>();
        Assert.InRange(keptFraction, 0.75 - 0.005, 0.75 + 0.005);   // ±5 standard deviations of a binomial mean
        // The scale as the input's type holds it (bf16 rounds 4/3 to 1.3359).
        double scale = torch.tensor(1 / 0.75).to_type(dtype).to_type(torch.ScalarType.Float64).item<double>();
        Assert.Equal(scale, output.masked_select(kept).mean().item<float>(), 4);
    }

    [Fact]
    public void InEvalModeOrAtRateZeroItIsTheIdentity()
    {
        using var input = torch.randn(64);
        using var dropout = new EncoderDropout(0.5);
        dropout.eval();
        Assert.Same(input, dropout.forward(input));
        using var none = new EncoderDropout(0);
        none.train();
        Assert.Same(input, none.forward(input));
    }

    [Fact]
    public void GradientsFlowOnlyThroughKeptValues()
    {
        torch.manual_seed(4);
        using var dropout = new EncoderDropout(0.5);
        dropout.train();
        using var input = torch.ones(1000, requires_grad: true);
        var output = dropout.forward(input);
        output.sum().backward();
        Assert.True(input.grad!.allclose(output.detach(), rtol: 0, atol: 0));   // 2 where kept, 0 where dropped
    }

    [Fact]
    public void ARateOutsideZeroToOneIsRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new EncoderDropout(1.0));
}
