using Microsoft.ML.PTuning.Modeling;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Modeling;

public class EncoderConfigTests
{
    [Fact]
    public void RobertaBaseConfigReadsEverySizeAndKeepsHfDefaultsForAbsentKeys()
    {
        const string json = """
            {"architectures": ["RobertaForMaskedLM"], "model_type": "roberta", "vocab_size": 50265, "hidden_size": 768,
             "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072, "hidden_act": "gelu",
             "max_position_embeddings": 514, "type_vocab_size": 1, "layer_norm_eps": 1e-05, "pad_token_id": 1,
             "bos_token_id": 0, "eos_token_id": 2, "classifier_dropout": null}
            """;
        EncoderConfig c = EncoderConfig.FromJson(json);
        Assert.Equal(("roberta", 50265, 768, 12, 12, 3072), (c.ModelType, c.VocabSize, c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize));
        Assert.Equal((514, 1, 1e-5, 1), (c.MaxPositionEmbeddings, c.TypeVocabSize, c.LayerNormEps, c.PadTokenId));
        Assert.Equal((0.1, 0.1), (c.HiddenDropoutProb, c.AttentionProbsDropoutProb));   // absent → HF default
        Assert.Null(c.ClassifierDropout);
        Assert.Equal(64, c.HeadDim);
        Assert.Equal(512, c.MaxSequenceLength());
    }

    [Fact]
    public void BertDefaultsDifferFromRobertaWhereHfsDo()
    {
        EncoderConfig bert = EncoderConfig.FromJson("""{"model_type": "bert"}""");
        Assert.Equal((30522, 0, 2, 1e-12, 512), (bert.VocabSize, bert.PadTokenId, bert.TypeVocabSize, bert.LayerNormEps, bert.MaxPositionEmbeddings));
        Assert.False(bert.IsRoberta);
        EncoderConfig roberta = EncoderConfig.FromJson("""{"model_type": "roberta"}""");
        Assert.Equal((50265, 1), (roberta.VocabSize, roberta.PadTokenId));
    }

    [Fact]
    public void MaxTokensLeavesRoomForThePrefixAndRobertaPositions()
    {
        EncoderConfig bert = EncoderConfig.FromJson("""{"model_type": "bert", "max_position_embeddings": 512}""");
        EncoderConfig roberta = EncoderConfig.FromJson("""{"model_type": "roberta", "max_position_embeddings": 514, "pad_token_id": 1}""");
        Assert.Equal(128, bert.MaxTokens(128, 16));
        Assert.Equal(496, bert.MaxTokens(1000, 16));
        Assert.Equal(514 - 20 - 2, roberta.MaxTokens(1000, 20));
        Assert.Equal(2, roberta.PositionOffset);
        Assert.Equal(0, bert.PositionOffset);
        // The model's own forward pass accepts exactly the budget it hands out.
        Assert.Equal(roberta.MaxSequenceLength(20), roberta.MaxTokens(1000, 20));

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => roberta.MaxTokens(128, 511));
        Assert.Equal("prefixLength", ex.ParamName);
        Assert.Contains("at most 509", ex.Message);
        Assert.Equal("maxSequenceLength", Assert.Throws<ArgumentOutOfRangeException>(() => bert.MaxTokens(2, 0)).ParamName);
        Assert.Equal("prefixLength", Assert.Throws<ArgumentOutOfRangeException>(() => bert.MaxTokens(128, -1)).ParamName);
    }

    [Theory]
    [InlineData("xlm-roberta")]
    [InlineData("camembert")]
    public void RobertaLikeModelTypesLoadAsRoberta(string modelType)
    {
        EncoderConfig c = EncoderConfig.FromJson($$"""{"model_type": "{{modelType}}", "vocab_size": 1000}""");
        Assert.Equal("roberta", c.ModelType);
        Assert.Equal(modelType, c.SourceModelType);
        Assert.Contains($"\"{modelType}\"", c.ToJson());
    }

    [Fact]
    public void ToJsonRoundTrips()
    {
        EncoderConfig original = TinyEncoders.Bert() with { ClassifierDropout = 0.25 };
        Assert.Equal(original, EncoderConfig.FromJson(original.ToJson()));
    }

    [Fact]
    public void UnknownModelTypeNamesTheFileAndTheType()
    {
        var e = Assert.Throws<InvalidDataException>(() => EncoderConfig.FromJson("""{"model_type": "gpt2"}""", "/models/x/config.json"));
        Assert.Contains("/models/x/config.json", e.Message);
        Assert.Contains("gpt2", e.Message);
        Assert.Contains("roberta", e.Message);
    }

    [Fact]
    public void HiddenSizeNotDivisibleByHeadsIsRejectedWithBothNumbers()
    {
        var e = Assert.Throws<InvalidDataException>(() =>
            EncoderConfig.FromJson("""{"model_type": "bert", "hidden_size": 30, "num_attention_heads": 4}""", "cfg.json"));
        Assert.Contains("cfg.json", e.Message);
        Assert.Contains("30", e.Message);
        Assert.Contains("4", e.Message);
    }

    [Theory]
    [InlineData("""{"model_type": "bert", "hidden_act": "swiglu"}""", "swiglu")]
    [InlineData("""{"model_type": "bert", "position_embedding_type": "relative_key"}""", "relative_key")]
    [InlineData("""{"model_type": "bert", "hidden_size": "big"}""", "hidden_size")]
    [InlineData("""{"hidden_size": 8}""", "model_type")]
    [InlineData("""{"model_type": "bert", "hidden_dropout_prob": 1.5}""", "hidden_dropout_prob")]
    [InlineData("""[1, 2]""", "object")]
    public void BadValuesAreRejectedNamingTheKey(string json, string named)
    {
        var e = Assert.Throws<InvalidDataException>(() => EncoderConfig.FromJson(json, "config.json"));
        Assert.Contains(named, e.Message);
        Assert.StartsWith("config.json", e.Message);
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        string path = Path.Combine(TestPaths.NewTempFolder("cfg"), "config.json");
        var e = Assert.Throws<FileNotFoundException>(() => EncoderConfig.Load(path));
        Assert.Contains(path, e.Message);
    }
}
