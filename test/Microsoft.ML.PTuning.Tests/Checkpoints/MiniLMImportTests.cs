using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Microsoft.ML.PTuning.Checkpoints;
using Microsoft.ML.PTuning.Samples;
using TorchSharp;
using TorchSharp.PyBridge;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Tests.Checkpoints;

/// <summary>Importing the real all-MiniLM-L6-v2 ONNX export (6 layers, hidden 384) into a Hugging Face folder.</summary>
public class MiniLMImportTests
{
    private readonly ITestOutputHelper _output;

    public MiniLMImportTests(ITestOutputHelper output) => _output = output;

    private static JsonNode ReadJson(string file) => JsonNode.Parse(File.ReadAllText(Path.Combine(MiniLM.HuggingFaceFolder, file)))!;

    [Fact]
    public void ConfigIsInferredFromTheGraph()
    {
        JsonNode config = ReadJson("config.json");

        Assert.Equal("bert", (string)config["model_type"]!);
        Assert.Equal("BertModel", (string)config["architectures"]![0]!);
        Assert.Equal(6, (int)config["num_hidden_layers"]!);
        Assert.Equal(384, (int)config["hidden_size"]!);
        Assert.Equal(12, (int)config["num_attention_heads"]!);
        Assert.Equal(1536, (int)config["intermediate_size"]!);
        Assert.Equal(30522, (int)config["vocab_size"]!);
        Assert.Equal(512, (int)config["max_position_embeddings"]!);
        Assert.Equal(2, (int)config["type_vocab_size"]!);
        Assert.Equal(1e-12, (double)config["layer_norm_eps"]!);
        Assert.Equal("gelu", (string)config["hidden_act"]!);
        Assert.Equal(0, (int)config["pad_token_id"]!);
        Assert.Equal(0.1, (double)config["hidden_dropout_prob"]!);

        JsonNode tokenizer = ReadJson("tokenizer_config.json");
        Assert.True((bool)tokenizer["do_lower_case"]!);
        Assert.Equal(512, (int)tokenizer["model_max_length"]!);
        Assert.Equal("[CLS]", (string)ReadJson("special_tokens_map.json")["cls_token"]!);
        using Stream vocabulary = MiniLM.OpenResource(MiniLM.VocabularyResource);
        using var expected = new MemoryStream();
        vocabulary.CopyTo(expected);
        Assert.Equal(expected.ToArray(), File.ReadAllBytes(Path.Combine(MiniLM.HuggingFaceFolder, "vocab.txt")));
    }

    [Fact]
    public void EveryHuggingFaceTensorIsWrittenWithItsHuggingFaceShape()
    {
        using var scope = torch.NewDisposeScope(); // disposes the loaded tensors too
        Dictionary<string, Tensor> state = Safetensors.LoadStateDict(Path.Combine(MiniLM.HuggingFaceFolder, "model.safetensors"));
        Dictionary<string, long[]> expected = OnnxEncoderGraph.ExpectedShapes(6, 30522, 384, 512, 2, 1536, pooler: true);
        Assert.Equal(5 + (6 * 16) + 2, expected.Count);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), state.Keys.Order(StringComparer.Ordinal));
        foreach ((string name, long[] shape) in expected)
        {
            Assert.True(shape.SequenceEqual(state[name].shape), $"{name}: [{string.Join(",", state[name].shape)}], expected [{string.Join(",", shape)}]");
            Assert.Equal(ScalarType.Float32, state[name].dtype);
        }
        Assert.Equal(new long[] { 384, 384 }, state["encoder.layer.0.attention.self.query.weight"].shape);
        Assert.Equal(new long[] { 1536, 384 }, state["encoder.layer.0.intermediate.dense.weight"].shape);
        Assert.Equal(new long[] { 384, 1536 }, state["encoder.layer.5.output.dense.weight"].shape);
    }

    [Fact]
    public void MatrixWeightsAreTheNumberedOnnxInitializersTransposed()
    {
        byte[] onnx = MiniLM.OnnxBytes();
        ImportedEncoder encoder = OnnxEncoderGraph.Analyze(OnnxProtoReader.Parse(onnx, 0, onnx.Length).Graph);
        using var scope = torch.NewDisposeScope(); // disposes the loaded tensors too
        Dictionary<string, Tensor> state = Safetensors.LoadStateDict(Path.Combine(MiniLM.HuggingFaceFolder, "model.safetensors"));
        ImportedTensor[] matrices = encoder.Tensors.Where(t => t.Transposed).ToArray();
        Assert.Equal(6 * 6, matrices.Length); // q, k, v, attention output, intermediate, output per layer; the pooler is a Gemm with transB = 1
        Assert.Equal("927", matrices.Single(t => t.Name == "encoder.layer.0.attention.self.query.weight").Source.Name);
        foreach (ImportedTensor m in matrices)
        {
            Tensor onnxMatrix = torch.tensor(MemoryMarshal.Cast<byte, float>(m.Source.Float32Bytes).ToArray(), m.Source.Dims);
            Assert.True(onnxMatrix.t().eq(state[m.Name]).all().item<bool>(), $"{m.Name} is not ONNX initializer '{m.Source.Name}' transposed");
        }
    }

    /// <summary>
    /// ONNX Runtime computes layer 0's query, key and value projections of the embeddings' LayerNorm output (made graph
    /// outputs); the imported HF weights must give the same numbers through x·Wᵀ + b.
    /// </summary>
    [Fact]
    public void ImportedProjectionsReproduceOnnxRuntimeOnTheSameInput()
    {
        byte[] onnx = MiniLM.OnnxBytes();
        OnnxGraph graph = OnnxProtoReader.Parse(onnx, 0, onnx.Length).Graph;
        string AddOf(string bias) => graph.Consumers(bias).Single(n => n.OpType == "Add").Outputs[0];
        string[] projections = { "query", "key", "value" };
        string normalized = AddOf("embeddings.LayerNorm.bias");
        string[] outputs = projections.Select(p => AddOf($"encoder.layer.0.attention.self.{p}.bias")).Prepend(normalized).ToArray();
        byte[] withOutputs = onnx.Concat(OnnxTestModel.ExtraOutputs(outputs)).ToArray();

        long[,] ids = { { 101, 7592, 2088, 102, 0 }, { 101, 2023, 2003, 1037, 102 } };
        long[,] mask = { { 1, 1, 1, 1, 0 }, { 1, 1, 1, 1, 1 } };
        long[,] types = new long[2, 5];
        using var session = OnnxReference.CreateSession(withOutputs);
        float[][,,] reference = outputs.Select(o => OnnxReference.Run(session, ids, mask, types, o)).ToArray();

        using var scope = torch.NewDisposeScope(); // disposes the loaded tensors too
        Dictionary<string, Tensor> state = Safetensors.LoadStateDict(Path.Combine(MiniLM.HuggingFaceFolder, "model.safetensors"));
        Tensor x = torch.tensor(reference[0].Cast<float>().ToArray(), 2, 5, 384);
        for (int i = 0; i < projections.Length; i++)
        {
            string layer = $"encoder.layer.0.attention.self.{projections[i]}";
            Tensor ours = torch.nn.functional.linear(x, state[layer + ".weight"], state[layer + ".bias"]);
            Tensor theirs = torch.tensor(reference[i + 1].Cast<float>().ToArray(), 2, 5, 384);
            double maxDiff = (ours - theirs).abs().max().item<float>();
            _output.WriteLine($"{projections[i]}: max |ours - ORT| = {maxDiff:E2}");
            Assert.True(maxDiff < 1e-4, $"{projections[i]} differs from ONNX Runtime by {maxDiff}");
        }
    }

    [Fact]
    public void FreshImportIsFastAndAtomic()
    {
        string parent = TestPaths.NewTempFolder("minilm-import");
        string folder = Path.Combine(parent, "all-MiniLM-L6-v2");
        var clock = Stopwatch.StartNew();
        using (Stream onnx = MiniLM.OpenResource(MiniLM.OnnxResource))
        using (Stream vocabulary = MiniLM.OpenResource(MiniLM.VocabularyResource))
        {
            Assert.Equal(folder, OnnxEncoderImport.ToHuggingFaceFolder(onnx, vocabulary, folder));
        }
        _output.WriteLine($"import: {clock.Elapsed.TotalSeconds:F2} s");

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"import took {clock.Elapsed}");
        Assert.Equal(new[] { "all-MiniLM-L6-v2" }, Directory.GetFileSystemEntries(parent).Select(Path.GetFileName));
        Assert.Equal(
            File.ReadAllBytes(Path.Combine(MiniLM.HuggingFaceFolder, "model.safetensors")),
            File.ReadAllBytes(Path.Combine(folder, "model.safetensors"))); // the import is deterministic
        Directory.Delete(parent, recursive: true);
    }
}
