using Google.Protobuf;
using Microsoft.ML.PTuning.Checkpoints;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Checkpoints;

/// <summary>
/// The protobuf layer of the ONNX reader (classes generated from onnx_import.proto): fields it does not declare are
/// skipped, and input the parser refuses (nesting past the limit, a packed list cut inside a value, a name that is not
/// UTF-8) is an <see cref="InvalidDataException"/> naming the file.
/// </summary>
public class OnnxProtoReaderTests
{
    private static OnnxGraph Read(byte[] model)
    {
        using var stream = new MemoryStream(model);
        OnnxGraph graph = OnnxProtoReader.Read(stream).Graph;
        Assert.True(stream.CanRead, "the caller's stream is left open");
        return graph;
    }

    private static string Refused(byte[] model)
    {
        string path = Path.Combine(TestPaths.NewTempFolder("onnx-proto"), "encoder.onnx");
        File.WriteAllBytes(path, model);
        using FileStream stream = File.OpenRead(path);
        var error = Assert.Throws<InvalidDataException>(() => OnnxProtoReader.Read(stream));
        Assert.Contains($"ONNX model '{path}' is not a valid ONNX protobuf message", error.Message);
        return error.Message;
    }

    /// <summary>ModelProto{graph: {initializer: TensorProto{dims: [count], data_type: FLOAT, the fields <paramref name="nameAndData"/> writes}}}.</summary>
    private static byte[] ModelWithFloatTensor(long count, Action<CodedOutputStream> nameAndData) =>
        OnnxTestModel.Message(m => OnnxTestModel.Bytes(m, 7, OnnxTestModel.Message(g => OnnxTestModel.Bytes(g, 5, OnnxTestModel.Message(t =>
        {
            OnnxTestModel.Bytes(t, 1, OnnxTestModel.Message(d => d.WriteInt64(count)));
            t.WriteTag(2, WireFormat.WireType.Varint);
            t.WriteInt32(1);
            nameAndData(t);
        })))));

    [Fact]
    public void FieldsTheProtoDoesNotDeclareAreSkipped()
    {
        // A Loop-like node whose graph attribute (AttributeProto.g, field 6) holds an initializer that disagrees with its
        // dims: subgraphs are not declared, so it is skipped unread, as are doc strings and the graph's value_info.
        byte[] subgraph = OnnxTestModel.Message(g => OnnxTestModel.Bytes(g, 5, OnnxTestModel.Message(t =>
        {
            OnnxTestModel.Bytes(t, 1, OnnxTestModel.Message(d => d.WriteInt64(1000)));
            OnnxTestModel.String(t, 8, "inner");
            OnnxTestModel.Bytes(t, 9, new byte[3]);
        })));
        byte[] body = OnnxTestModel.Message(a =>
        {
            OnnxTestModel.String(a, 1, "body");
            OnnxTestModel.Bytes(a, 6, subgraph);
        });
        byte[] model = new OnnxTestModel()
            .Float("w", [2], [1f, 2f])
            .Node("loop", "Loop", ["w"], ["out"], body, OnnxTestModel.FloatAttribute("alpha", 0.5f))
            .ToBytes();
        byte[] extra = OnnxTestModel.Message(m =>
        {
            OnnxTestModel.String(m, 2, "a producer");   // producer_name
            OnnxTestModel.String(m, 6, "a doc string"); // doc_string
            OnnxTestModel.Bytes(m, 7, OnnxTestModel.Message(g => OnnxTestModel.Bytes(g, 13, OnnxTestModel.Message(v => OnnxTestModel.String(v, 1, "out"))))); // value_info
        });

        OnnxGraph graph = Read([.. model, .. extra]);

        Assert.Equal(["w"], graph.Initializers.Keys);
        Assert.Equal([1.0, 2.0], graph.Initializers["w"].ToDoubles());
        OnnxNode loop = Assert.Single(graph.Nodes);
        Assert.Equal("Loop", loop.OpType);
        Assert.Equal(["w"], loop.Inputs);
        Assert.Equal(["out"], loop.Outputs);
        Assert.Equal(0.5f, loop.Attributes["alpha"].Float);
        Assert.Null(loop.Attributes["body"].Tensor);
    }

    [Fact]
    public void NestingPastTheLimitIsRefused()
    {
        // Sixteen nested groups of an undeclared field: protobuf's default limit (100) would take them, the reader's (16) does not.
        byte[] model = OnnxTestModel.Message(m =>
        {
            for (int i = 0; i < 16; i++)
            {
                m.WriteTag(99, WireFormat.WireType.StartGroup);
            }
            for (int i = 0; i < 16; i++)
            {
                m.WriteTag(99, WireFormat.WireType.EndGroup);
            }
        });

        Assert.Contains("nesting", Refused([.. new OnnxTestModel().Float("w", [1], [1f]).ToBytes(), .. model]));
    }

    [Fact]
    public void APackedListCutInsideAValueIsRefused()
    {
        byte[] model = ModelWithFloatTensor(2, t =>
        {
            OnnxTestModel.String(t, 8, "w");
            OnnxTestModel.Bytes(t, 4, new byte[6]); // float_data: one and a half floats
        });

        Assert.Contains("truncated", Refused(model));
    }

    [Fact]
    public void ANameThatIsNotUtf8IsRefused()
    {
        byte[] model = ModelWithFloatTensor(1, t =>
        {
            OnnxTestModel.Bytes(t, 8, [(byte)'w', 0xFF]);
            OnnxTestModel.Bytes(t, 9, new byte[4]);
        });

        Assert.Contains("UTF-8", Refused(model));
    }
}
