using Microsoft.ML.PTuning.Checkpoints;
using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Tests.Modeling;
using TorchSharp;
using TorchSharp.PyBridge;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Tests.Checkpoints;

/// <summary>Reading PEFT prefix-tuning adapter folders written the way PEFT's save_pretrained writes them.</summary>
public class PeftAdapterTests
{
    // Tiny RoBERTa: L = 2, H = 32, 4 heads → a prefix row is 2·2·32 = 128 wide.
    private const int Width = 128;

    private static string WriteAdapter(string config, IReadOnlyDictionary<string, Tensor> tensors)
    {
        string folder = TestPaths.NewTempFolder("peft");
        File.WriteAllText(Path.Combine(folder, PeftAdapter.ConfigFileName), config);
        using FileStream stream = File.Create(Path.Combine(folder, "adapter_model.safetensors"));
        Safetensors.SaveStateDict(stream, tensors.ToDictionary(kv => kv.Key, kv => kv.Value), leaveOpen: true);
        return folder;
    }

    private static string Config(string peftType = "PREFIX_TUNING", string taskType = "SEQ_CLS", int tokens = 3, int layers = 2, int dim = 32) =>
        $$"""
        { "peft_type": "{{peftType}}", "task_type": "{{taskType}}", "num_virtual_tokens": {{tokens}}, "num_layers": {{layers}},
          "token_dim": {{dim}}, "num_attention_heads": 4, "num_transformer_submodules": 1, "prefix_projection": true,
          "encoder_hidden_size": 16, "inference_mode": true, "modules_to_save": ["classifier", "score"] }
        """;

    private static Dictionary<string, Tensor> RobertaSequenceTensors(int tokens = 3, string headPrefix = "base_model.") => new()
    {
        [PrefixTunedModel.PromptEmbeddingsKey] = torch.randn(tokens, Width),
        [headPrefix + "classifier.dense.weight"] = torch.randn(32, 32),
        [headPrefix + "classifier.dense.bias"] = torch.randn(32),
        [headPrefix + "classifier.out_proj.weight"] = torch.randn(4, 32),
        [headPrefix + "classifier.out_proj.bias"] = torch.randn(4),
    };

    [Fact]
    public void ReadsSettingsAndRenamesTheHeadToTheModelsAdapterNames()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(1);
        Dictionary<string, Tensor> saved = RobertaSequenceTensors();
        string folder = WriteAdapter(Config(), saved);

        using var adapter = PeftAdapter.Load(folder);

        Assert.Equal(TuningMethod.PrefixTuning, adapter.Method);
        Assert.Equal(TaskKind.SequenceClassification, adapter.Task);
        Assert.Equal(3, adapter.NumVirtualTokens);
        Assert.True(adapter.PrefixProjection);
        Assert.Equal(4, adapter.NumLabels);
        Assert.Equal((2, 32, 4), (adapter.NumLayers, adapter.TokenDim, adapter.NumAttentionHeads));
        Assert.Equal(
            new[] { "classifier.dense.bias", "classifier.dense.weight", "classifier.out_proj.bias", "classifier.out_proj.weight", "prompt_embeddings" },
            adapter.StateDict.Keys.Order(StringComparer.Ordinal));
        Assert.True(adapter.StateDict["classifier.out_proj.weight"].eq(saved["base_model.classifier.out_proj.weight"]).all().item<bool>());
        Assert.EndsWith("adapter_model.safetensors", adapter.WeightsPath);
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void LoadedStateFitsAModelAndRoundTripsItsAdapterState()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(2);
        string folder = WriteAdapter(Config(taskType: "TOKEN_CLS"), new Dictionary<string, Tensor>
        {
            [PrefixTunedModel.PromptEmbeddingsKey] = torch.randn(3, Width),
            ["base_model.model.classifier.weight"] = torch.randn(5, 32),   // a tuner that wraps the model once more
            ["base_model.model.classifier.bias"] = torch.randn(5),
        });
        using TransformerEncoder encoder = TinyEncoders.Random(TinyEncoders.Roberta(), seed: 3, addPoolingLayer: false);
        using var adapter = PeftAdapter.Load(folder);

        using PrefixTunedModel model = adapter.CreateModel(encoder);

        Assert.Equal(TaskKind.TokenClassification, model.Task);
        Assert.Equal(5, model.NumLabels);
        Assert.Equal(3, model.PrefixLength);
        Assert.False(model.Prefix!.IsReparameterized);
        Dictionary<string, Tensor> state = model.AdapterStateDict();
        Assert.Equal(adapter.StateDict.Keys.Order(StringComparer.Ordinal), state.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, tensor) in adapter.StateDict)
            Assert.True(state[name].eq(tensor).all().item<bool>(), name);
        Directory.Delete(folder, recursive: true);
    }

    [Theory]
    [InlineData("LORA")]
    [InlineData("PROMPT_TUNING")]
    [InlineData("P_TUNING")]
    public void OtherPeftTypesAreRejectedByName(string peftType)
    {
        using var scope = torch.NewDisposeScope();
        string folder = WriteAdapter(Config(peftType: peftType), RobertaSequenceTensors());

        var e = Assert.Throws<NotSupportedException>(() => PeftAdapter.Load(folder));

        Assert.Contains($"peft_type '{peftType}'", e.Message);
        Assert.Contains("PREFIX_TUNING", e.Message);
        Assert.Contains(PeftAdapter.ConfigFileName, e.Message);
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void OtherTasksAreRejectedByName()
    {
        using var scope = torch.NewDisposeScope();
        string folder = WriteAdapter(Config(taskType: "CAUSAL_LM"), RobertaSequenceTensors());

        var e = Assert.Throws<NotSupportedException>(() => PeftAdapter.Load(folder));

        Assert.Contains("task_type 'CAUSAL_LM'", e.Message);
        Assert.Contains("SEQ_CLS or TOKEN_CLS", e.Message);
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void APrefixTableOfAnotherLengthOrWidthIsRejected()
    {
        using var scope = torch.NewDisposeScope();
        string shortTable = WriteAdapter(Config(tokens: 4), RobertaSequenceTensors(tokens: 3));
        string noTable = WriteAdapter(Config(), RobertaSequenceTensors().Where(kv => kv.Key != "prompt_embeddings").ToDictionary());
        string wrongLayers = WriteAdapter(Config(layers: 3), RobertaSequenceTensors());

        var length = Assert.Throws<InvalidDataException>(() => PeftAdapter.Load(shortTable));
        var missing = Assert.Throws<InvalidDataException>(() => PeftAdapter.Load(noTable));
        var width = Assert.Throws<InvalidDataException>(() => PeftAdapter.Load(wrongLayers));

        Assert.Contains("[3, 128]", length.Message);
        Assert.Contains("4 (num_virtual_tokens)", length.Message);
        Assert.Contains("no 'prompt_embeddings'", missing.Message);
        Assert.Contains("found: classifier.dense.bias", missing.Message);
        Assert.Contains("need 192", width.Message);
        foreach (string folder in new[] { shortTable, noTable, wrongLayers })
            Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void AnAdapterForAnotherEncoderIsRejectedBeforeLoading()
    {
        using var scope = torch.NewDisposeScope();
        string folder = WriteAdapter(Config(), RobertaSequenceTensors());
        using var adapter = PeftAdapter.Load(folder);
        EncoderConfig wider = TinyEncoders.Roberta() with { HiddenSize = 64, IntermediateSize = 128 };
        using TransformerEncoder encoder = TinyEncoders.Random(wider, seed: 4, addPoolingLayer: false);

        var e = Assert.Throws<InvalidDataException>(() => adapter.CreateModel(encoder));

        Assert.Contains("token_dim 32 but the encoder's hidden size is 64", e.Message);
        Assert.Contains("prompt_embeddings is 128 wide but the encoder needs 2·layers·hidden = 256", e.Message);
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void MissingFilesAreNamed()
    {
        string empty = TestPaths.NewTempFolder("peft");
        var noConfig = Assert.Throws<FileNotFoundException>(() => PeftAdapter.Load(empty));
        Assert.Contains("adapter_config.json", noConfig.Message);

        File.WriteAllText(Path.Combine(empty, PeftAdapter.ConfigFileName), Config());
        var noWeights = Assert.Throws<FileNotFoundException>(() => PeftAdapter.Load(empty));
        Assert.Contains("adapter_model.safetensors, adapter_model.bin", noWeights.Message);

        File.WriteAllText(Path.Combine(empty, PeftAdapter.ConfigFileName), """{ "peft_type": "PREFIX_TUNING", "task_type": "SEQ_CLS" }""");
        var noTokens = Assert.Throws<InvalidDataException>(() => PeftAdapter.Load(empty));
        Assert.Contains("'num_virtual_tokens' is missing", noTokens.Message);

        Assert.Throws<DirectoryNotFoundException>(() => PeftAdapter.Load(Path.Combine(empty, "absent")));
        Directory.Delete(empty, recursive: true);
    }
}
