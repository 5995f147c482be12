using System.Text.Json.Nodes;
using Microsoft.ML.PTuning.Checkpoints;
using TorchSharp;
using TorchSharp.PyBridge;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Tests.Checkpoints;

/// <summary>Importing small ONNX encoder graphs built by the test, and the importer's errors.</summary>
public class OnnxEncoderImportTests
{
    private const int Hidden = 4, Intermediate = 8, Vocab = 12, Positions = 10;
    private const string Prefix = "roberta.";
    private static readonly string TinyVocabulary = string.Join("\n", "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "Hello", "world", "##s") + "\n";

    /// <summary>The values of every initializer the tiny model was built with, by ONNX name.</summary>
    private sealed class TinyEncoder
    {
        public OnnxTestModel Model { get; } = new();
        public Dictionary<string, (long[] Dims, float[] Values)> Values { get; } = new();
        private readonly Random _random = new(1234);
        private int _matrices = 100;

        public string Float(string name, params long[] dims)
        {
            float[] values = Enumerable.Range(0, (int)dims.Aggregate(1L, (a, b) => a * b)).Select(_ => (float)(_random.NextDouble() - 0.5)).ToArray();
            Values[name] = (dims, values);
            Model.Float(name, dims, values, asRawData: Values.Count % 2 == 0); // both float encodings
            return name;
        }

        /// <summary>A linear layer as torch.onnx exports it: MatMul by a numbered [in, out] matrix, then Add of the named bias.</summary>
        public string Linear(string hfName, string input, int inputs, int outputs, bool withBias = true)
        {
            string matrix = Float((_matrices++).ToString(), inputs, outputs);
            Model.Node($"{hfName}/MatMul", "MatMul", new[] { input, matrix }, new[] { $"{hfName}/mm" });
            if (!withBias)
            {
                return $"{hfName}/mm";
            }
            string bias = Float(Prefix + hfName + ".bias", outputs);
            Model.Node($"{hfName}/Add", "Add", new[] { $"{hfName}/mm", bias }, new[] { hfName });
            return hfName;
        }

        public string Norm(string hfName, string input)
        {
            string weight = Float(Prefix + hfName + ".weight", Hidden), bias = Float(Prefix + hfName + ".bias", Hidden);
            Model.Node($"{hfName}/LN", "LayerNormalization", new[] { input, weight, bias }, new[] { hfName }, OnnxTestModel.FloatAttribute("epsilon", 1e-5f));
            return hfName;
        }
    }

    /// <summary>A one-layer RoBERTa-style graph: prefixed names, CumSum positions, LayerNormalization, tanh GELU, Gemm pooler.</summary>
    private static TinyEncoder BuildTinyEncoder(string omit = "", string lonelyMatMul = "", bool headsFromScale = false)
    {
        var e = new TinyEncoder();
        string words = e.Float(Prefix + "embeddings.word_embeddings.weight", Vocab, Hidden);
        string positions = e.Float(Prefix + "embeddings.position_embeddings.weight", Positions, Hidden);
        e.Float(Prefix + "embeddings.token_type_embeddings.weight", 1, Hidden);
        e.Model.Int64("pad", 1).Node("is_pad", "Equal", new[] { "input_ids", "pad" }, new[] { "mask" })
            .Node("positions", "CumSum", new[] { "mask", "axis" }, new[] { "position_ids" })
            .Node("word_lookup", "Gather", new[] { words, "input_ids" }, new[] { "w" })
            .Node("position_lookup", "Gather", new[] { positions, "position_ids" }, new[] { "p" })
            .Node("embedding_sum", "Add", new[] { "w", "p" }, new[] { "sum" });
        string x = e.Norm("embeddings.LayerNorm", "sum");
        const string layer = "encoder.layer.0.";
        string q = lonelyMatMul == "query" ? e.Linear(layer + "attention.self.query", x, Hidden, Hidden, withBias: false) : e.Linear(layer + "attention.self.query", x, Hidden, Hidden);
        if (headsFromScale)
        {
            // No constant head count in the reshape; scores = q·kᵀ / √head_dim tells head_dim = 2, so 2 heads.
            e.Model.Node("reshape_q", "Reshape", new[] { q, "computed_shape" }, new[] { "q4" })
                .Float("scale", Array.Empty<long>(), new[] { MathF.Sqrt(2) })
                .Node("scores", "MatMul", new[] { "q4", "k4" }, new[] { "s" })
                .Node("scaled", "Div", new[] { "s", "scale" }, new[] { "s2" });
        }
        else
        {
            e.Model.Int64("split_heads", 0, 0, 2, 2).Node("reshape_q", "Reshape", new[] { q, "split_heads" }, new[] { "q4" });
        }
        if (omit != "key")
        {
            e.Linear(layer + "attention.self.key", x, Hidden, Hidden);
        }
        e.Linear(layer + "attention.self.value", x, Hidden, Hidden);
        string attention = e.Linear(layer + "attention.output.dense", "context", Hidden, Hidden);
        string a = e.Norm(layer + "attention.output.LayerNorm", attention);
        string inner = e.Linear(layer + "intermediate.dense", a, Hidden, Intermediate);
        e.Model.Node("gelu_cube", "Pow", new[] { inner, "three" }, new[] { "cube" }).Node("gelu_tanh", "Tanh", new[] { "cube" }, new[] { "t" })
            .Node("gelu_mul", "Mul", new[] { inner, "t" }, new[] { "activated" });
        string ffn = e.Linear(layer + "output.dense", "activated", Intermediate, Hidden);
        string hiddenStates = e.Norm(layer + "output.LayerNorm", ffn);
        string poolerWeight = e.Float(Prefix + "pooler.dense.weight", Hidden, Hidden), poolerBias = e.Float(Prefix + "pooler.dense.bias", Hidden);
        e.Model.Node("first_token", "Gather", new[] { hiddenStates, "zero" }, new[] { "cls" })
            .Node("pooler", "Gemm", new[] { "cls", poolerWeight, poolerBias }, new[] { "pooled" }) // transB = 0: B is [in, out]
            .Output(hiddenStates);
        return e;
    }

    private static string ImportToNewFolder(byte[] model, string vocabulary)
    {
        string folder = Path.Combine(TestPaths.NewTempFolder("onnx-import"), "hf");
        return OnnxEncoderImport.ToHuggingFaceFolder(new MemoryStream(model), new MemoryStream(System.Text.Encoding.UTF8.GetBytes(vocabulary)), folder);
    }

    private static float[] Transposed(float[] values, int rows, int columns)
    {
        var result = new float[values.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                result[(c * rows) + r] = values[(r * columns) + c];
            }
        }
        return result;
    }

    [Fact]
    public void TinyRobertaGraphGivesItsConfigFromTheGraphAlone()
    {
        byte[] model = BuildTinyEncoder().Model.ToBytes();
        ImportedEncoder encoder = OnnxEncoderGraph.Analyze(OnnxProtoReader.Parse(model, 0, model.Length).Graph);

        Assert.Equal("roberta", encoder.ModelType);
        Assert.Equal(1, encoder.PadTokenIdFromGraph);
        Assert.Equal((Vocab, Hidden, 1, 2, Intermediate), (encoder.VocabSize, encoder.HiddenSize, encoder.NumHiddenLayers, encoder.NumAttentionHeads, encoder.IntermediateSize));
        Assert.Equal((Positions, 1, 1e-5, "gelu_new"), (encoder.MaxPositionEmbeddings, encoder.TypeVocabSize, encoder.LayerNormEps, encoder.HiddenAct));
        Assert.All(encoder.Tensors, t => Assert.False(t.Name.StartsWith(Prefix, StringComparison.Ordinal)));
        Assert.Equal(5 + 16 + 2, encoder.Tensors.Count);
        Assert.True(encoder.Tensors.Single(t => t.Name == "pooler.dense.weight").Transposed, "a Gemm with transB = 0 holds B as [in, out]");
        Assert.Equal(new long[] { Intermediate, Hidden }, encoder.Tensors.Single(t => t.Name == "encoder.layer.0.intermediate.dense.weight").Shape);
    }

    [Fact]
    public void HeadCountFallsBackToTheAttentionScale()
    {
        byte[] model = BuildTinyEncoder(headsFromScale: true).Model.ToBytes();

        Assert.Equal(2, OnnxEncoderGraph.Analyze(OnnxProtoReader.Parse(model, 0, model.Length).Graph).NumAttentionHeads);
    }

    [Fact]
    public void TinyGraphImportWritesTransposedMatricesAndTheFolderFiles()
    {
        TinyEncoder tiny = BuildTinyEncoder();
        string folder = ImportToNewFolder(tiny.Model.ToBytes(), TinyVocabulary);

        Assert.Equal(new[] { "config.json", "model.safetensors", "special_tokens_map.json", "tokenizer_config.json", "vocab.txt" },
            Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Single(Directory.GetFileSystemEntries(Path.GetDirectoryName(folder)!)); // no temporary folder left beside it
        Assert.Equal(TinyVocabulary, File.ReadAllText(Path.Combine(folder, "vocab.txt")));
        var tokenizer = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "tokenizer_config.json")))!;
        Assert.False((bool)tokenizer["do_lower_case"]!, "the vocabulary has upper-case tokens");
        Assert.Equal(Positions - 2, (int)tokenizer["model_max_length"]!);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!;
        Assert.Equal("RobertaModel", (string)config["architectures"]![0]!);
        Assert.Equal(1, (int)config["pad_token_id"]!);

        Dictionary<string, Tensor> state = Safetensors.LoadStateDict(Path.Combine(folder, "model.safetensors"));
        (long[] dims, float[] values) = tiny.Values["100"]; // the first numbered matrix: layer 0's query, [in, out]
        Assert.Equal(Transposed(values, (int)dims[0], (int)dims[1]), state["encoder.layer.0.attention.self.query.weight"].data<float>().ToArray());
        (dims, values) = tiny.Values["104"]; // intermediate.dense, [4, 8] in ONNX, [8, 4] in HF
        Assert.Equal(new long[] { Intermediate, Hidden }, state["encoder.layer.0.intermediate.dense.weight"].shape);
        Assert.Equal(Transposed(values, (int)dims[0], (int)dims[1]), state["encoder.layer.0.intermediate.dense.weight"].data<float>().ToArray());
        Assert.Equal(tiny.Values[Prefix + "embeddings.word_embeddings.weight"].Values, state["embeddings.word_embeddings.weight"].data<float>().ToArray());
        foreach (Tensor t in state.Values)
        {
            t.Dispose();
        }
    }

    [Fact]
    public void MatMulWithoutANamedBiasIsAnErrorNamingTheNode()
    {
        byte[] model = BuildTinyEncoder(lonelyMatMul: "query").Model.ToBytes();

        var e = Assert.Throws<InvalidDataException>(() => ImportToNewFolder(model, TinyVocabulary));
        Assert.Contains("'encoder.layer.0.attention.self.query/MatMul' (MatMul)", e.Message);
        Assert.Contains("'100' [4,4]", e.Message);
    }

    [Fact]
    public void MissingTensorsAreListedByName()
    {
        byte[] model = BuildTinyEncoder(omit: "key").Model.ToBytes();

        var e = Assert.Throws<InvalidDataException>(() => ImportToNewFolder(model, TinyVocabulary));
        Assert.Contains("Missing tensors (2): encoder.layer.0.attention.self.key.weight, encoder.layer.0.attention.self.key.bias", e.Message);
    }

    [Fact]
    public void TruncatedEmptyAndGarbageStreamsAreClearErrorsAndLeaveNoFolder()
    {
        byte[] model = BuildTinyEncoder().Model.ToBytes();
        var garbage = new byte[4096];
        new Random(7).NextBytes(garbage);
        string parent = TestPaths.NewTempFolder("onnx-bad");

        foreach ((string what, byte[] bytes) in new[] { ("truncated", model[..^9]), ("empty", Array.Empty<byte>()), ("garbage", garbage), ("text", System.Text.Encoding.UTF8.GetBytes(TinyVocabulary)) })
        {
            var e = Assert.Throws<InvalidDataException>(() => OnnxEncoderImport.ToHuggingFaceFolder(
                new MemoryStream(bytes), new MemoryStream(System.Text.Encoding.UTF8.GetBytes(TinyVocabulary)), Path.Combine(parent, what)));
            Assert.Contains("ONNX", e.Message);
        }
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => OnnxProtoReader.Parse(model[..^9], 0, model.Length - 9)).Message);
        Assert.Empty(Directory.GetFileSystemEntries(parent));
    }

    [Fact]
    public void ExternalDataIsRejectedNamingTheTensor()
    {
        byte[] model = new OnnxTestModel().ExternalFloat("embeddings.word_embeddings.weight", new long[] { 12, 4 }).ToBytes();

        var e = Assert.Throws<NotSupportedException>(() => OnnxProtoReader.Parse(model, 0, model.Length));
        Assert.Contains("'embeddings.word_embeddings.weight'", e.Message);
        Assert.Contains("external", e.Message);
    }

    [Fact]
    public void ANonEmptyOutputFolderIsNotOverwritten()
    {
        string folder = TestPaths.NewTempFolder("onnx-occupied");
        File.WriteAllText(Path.Combine(folder, "keep.txt"), "mine");

        var e = Assert.Throws<IOException>(() => OnnxEncoderImport.ToHuggingFaceFolder(
            new MemoryStream(BuildTinyEncoder().Model.ToBytes()), new MemoryStream(System.Text.Encoding.UTF8.GetBytes(TinyVocabulary)), folder));
        Assert.Contains(folder, e.Message);
        Assert.Equal(new[] { "keep.txt" }, Directory.GetFileSystemEntries(folder).Select(Path.GetFileName));
    }

    [Fact]
    public void AVocabularyThatIsNotWordPieceIsAnError()
    {
        var e = Assert.Throws<InvalidDataException>(() => ImportToNewFolder(BuildTinyEncoder().Model.ToBytes(), "{\"hello\": 0}"));
        Assert.Contains("[CLS]", e.Message);
    }

    [Fact]
    public void AnUnrecognisedExportRecordsNoPoolingUnlessToldOne()
    {
        byte[] model = BuildTinyEncoder().Model.ToBytes();
        Assert.Null(SentenceTransformersPooling.Read(ImportToNewFolder(model, TinyVocabulary)));
        foreach (PoolingMode mode in new[] { PoolingMode.Cls, PoolingMode.Mean })
        {
            string folder = Path.Combine(TestPaths.NewTempFolder("onnx-pooling"), "hf");
            OnnxEncoderImport.ToHuggingFaceFolder(new MemoryStream(model), new MemoryStream(System.Text.Encoding.UTF8.GetBytes(TinyVocabulary)), folder, mode);
            Assert.Equal(mode, SentenceTransformersPooling.Read(folder));
        }
    }
}
