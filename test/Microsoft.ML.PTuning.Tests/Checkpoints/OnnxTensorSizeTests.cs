using Microsoft.ML.PTuning.Checkpoints;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Checkpoints;

/// <summary>ONNX initializers whose data disagree with their dims are refused when read, naming the file and the initializer.</summary>
public class OnnxTensorSizeTests
{
    // Reads the model from a file, so the error can name it; returns the message.
    private static string Refused(OnnxTestModel model, string initializer, string expected)
    {
        string path = Path.Combine(TestPaths.NewTempFolder("onnx-size"), "encoder.onnx");
        File.WriteAllBytes(path, model.ToBytes());
        using FileStream stream = File.OpenRead(path);
        var error = Assert.Throws<InvalidDataException>(() => OnnxProtoReader.Read(stream));
        Assert.Contains($"'{path}'", error.Message);
        Assert.Contains($"initializer '{initializer}'", error.Message);
        Assert.Contains(expected, error.Message);
        return error.Message;
    }

    [Fact]
    public void RawDataShorterOrLongerThanTheDimsIsRefused()
    {
        Refused(new OnnxTestModel().Float("w", [2, 3], new float[5]), "w", "holds 20 bytes of raw_data; its dims need 6 × 4 = 24 bytes");
        Refused(new OnnxTestModel().Float("w", [2], new float[3]), "w", "12 bytes of raw_data");
    }

    [Fact]
    public void TypedFloatDataOfAnotherCountIsRefused()
    {
        Refused(new OnnxTestModel().Float("bias", [4], new float[3], asRawData: false), "bias", "holds 3 values; its dims need 4");
    }

    [Fact]
    public void ANegativeDimensionIsRefused()
    {
        Refused(new OnnxTestModel().Float("w", [-1, 4], new float[4]), "w", "negative dimension");
    }

    [Fact]
    public void DimsWhoseProductOverflowsAreRefused()
    {
        Refused(new OnnxTestModel().Float("w", [1L << 40, 1L << 40], new float[1]), "w", "overflows");
    }

    [Fact]
    public void InitializersThatAgreeWithTheirDimsAreRead()
    {
        byte[] model = new OnnxTestModel()
            .Float("w", [2, 3], new float[6])
            .Float("b", [3], [1f, 2f, 3f], asRawData: false)
            .Float("empty", [0, 3], [])
            .Int64("shape", 4, 5)
            .ToBytes();
        OnnxGraph graph = OnnxProtoReader.Parse(model, 0, model.Length).Graph;
        Assert.Equal(6, graph.Initializers["w"].ElementCount);
        Assert.Equal([1.0, 2.0, 3.0], graph.Initializers["b"].ToDoubles());
        Assert.Equal(0, graph.Initializers["empty"].ElementCount);
        Assert.Equal([4L, 5L], graph.Initializers["shape"].ToInt64s());
    }
}
