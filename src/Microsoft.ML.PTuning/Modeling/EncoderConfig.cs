using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Microsoft.ML.PTuning.Modeling;

/// <summary>
/// The sizes and settings of a BERT- or RoBERTa-family encoder, as Hugging Face writes them in <c>config.json</c>.
/// </summary>
/// <remarks>
/// Keys missing from the file take Hugging Face's defaults (<c>BertConfig</c> / <c>RobertaConfig</c>).
/// <c>xlm-roberta</c> and <c>camembert</c> are RoBERTa architectures and load as <see cref="ModelType"/> <c>roberta</c>;
/// <see cref="SourceModelType"/> keeps the name the file used.
/// </remarks>
public sealed record EncoderConfig
{
    /// <summary>The activations accepted for <see cref="HiddenAct"/> (Hugging Face <c>ACT2FN</c> names).</summary>
    public static IReadOnlyList<string> SupportedActivations { get; } =
        ["gelu", "gelu_python", "gelu_new", "gelu_fast", "gelu_pytorch_tanh", "quick_gelu", "relu", "silu", "swish", "tanh", "mish"];

    private static readonly Dictionary<string, (string Family, int VocabSize, int PadTokenId)> KnownModelTypes = new(StringComparer.Ordinal)
    {
        ["bert"] = ("bert", 30522, 0),
        ["roberta"] = ("roberta", 50265, 1),
        ["xlm-roberta"] = ("roberta", 250002, 1),
        ["camembert"] = ("roberta", 32005, 1),
    };

    /// <summary>The architecture family: <c>bert</c> or <c>roberta</c>.</summary>
    public string ModelType { get; init; } = "roberta";

    /// <summary>The <c>model_type</c> exactly as the file named it (for example <c>xlm-roberta</c>).</summary>
    public string SourceModelType { get; init; } = "roberta";

    /// <summary>Number of rows of the word-embedding table.</summary>
    public int VocabSize { get; init; } = 50265;

    /// <summary>Width H of every hidden state.</summary>
    public int HiddenSize { get; init; } = 768;

    /// <summary>Number L of transformer layers.</summary>
    public int NumHiddenLayers { get; init; } = 12;

    /// <summary>Number of attention heads per layer; must divide <see cref="HiddenSize"/>.</summary>
    public int NumAttentionHeads { get; init; } = 12;

    /// <summary>Width of the feed-forward layer.</summary>
    public int IntermediateSize { get; init; } = 3072;

    /// <summary>Activation of the feed-forward layer (one of <see cref="SupportedActivations"/>).</summary>
    public string HiddenAct { get; init; } = "gelu";

    /// <summary>Rows of the position-embedding table.</summary>
    public int MaxPositionEmbeddings { get; init; } = 512;

    /// <summary>Rows of the token-type (segment) table.</summary>
    public int TypeVocabSize { get; init; } = 2;

    /// <summary>Epsilon of every LayerNorm.</summary>
    public double LayerNormEps { get; init; } = 1e-12;

    /// <summary>Id of the padding token; for RoBERTa also the padding index of the position table.</summary>
    public int PadTokenId { get; init; } = 1;

    /// <summary>Dropout after embeddings, attention output and feed-forward output.</summary>
    public double HiddenDropoutProb { get; init; } = 0.1;

    /// <summary>Dropout on the attention probabilities.</summary>
    public double AttentionProbsDropoutProb { get; init; } = 0.1;

    /// <summary>Dropout of the classification head when the file sets one (<c>classifier_dropout</c>); else null.</summary>
    public double? ClassifierDropout { get; init; }

    /// <summary>Width of one attention head (H / heads).</summary>
    public int HeadDim => HiddenSize / NumAttentionHeads;

    /// <summary>True for the RoBERTa family (padding-aware position ids starting after the padding index).</summary>
    public bool IsRoberta => ModelType == "roberta";

    /// <summary>Reads and validates a <c>config.json</c> file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a supported encoder configuration.</exception>
    public static EncoderConfig Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"Encoder configuration '{path}' does not exist.", path);
        return FromJson(File.ReadAllText(path), path);
    }

    /// <summary>Parses and validates the text of a <c>config.json</c>; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="InvalidDataException">The text is not a supported encoder configuration.</exception>
    public static EncoderConfig FromJson(string json, string source = "config.json")
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonObject root = ParseObject(json, source);

        string sourceType = ReadString(root, "model_type", source)
            ?? throw new InvalidDataException($"{source}: 'model_type' is missing; expected one of {string.Join(", ", KnownModelTypes.Keys)}.");
        if (!KnownModelTypes.TryGetValue(sourceType, out var known))
        {
            throw new InvalidDataException(
                $"{source}: model_type '{sourceType}' is not supported; expected one of {string.Join(", ", KnownModelTypes.Keys)}.");
        }

        string positionType = ReadString(root, "position_embedding_type", source) ?? "absolute";
        if (positionType != "absolute")
            throw new InvalidDataException($"{source}: position_embedding_type '{positionType}' is not supported; only 'absolute' is.");
        if (ReadBool(root, "is_decoder", source) || ReadBool(root, "add_cross_attention", source))
            throw new InvalidDataException($"{source}: decoder / cross-attention configurations are not supported; expected an encoder.");

        var config = new EncoderConfig
        {
            ModelType = known.Family,
            SourceModelType = sourceType,
            VocabSize = ReadInt(root, "vocab_size", source) ?? known.VocabSize,
            HiddenSize = ReadInt(root, "hidden_size", source) ?? 768,
            NumHiddenLayers = ReadInt(root, "num_hidden_layers", source) ?? 12,
            NumAttentionHeads = ReadInt(root, "num_attention_heads", source) ?? 12,
            IntermediateSize = ReadInt(root, "intermediate_size", source) ?? 3072,
            HiddenAct = ReadString(root, "hidden_act", source) ?? "gelu",
            MaxPositionEmbeddings = ReadInt(root, "max_position_embeddings", source) ?? 512,
            TypeVocabSize = ReadInt(root, "type_vocab_size", source) ?? 2,
            LayerNormEps = ReadDouble(root, "layer_norm_eps", source) ?? 1e-12,
            PadTokenId = ReadInt(root, "pad_token_id", source) ?? known.PadTokenId,
            HiddenDropoutProb = ReadDouble(root, "hidden_dropout_prob", source) ?? 0.1,
            AttentionProbsDropoutProb = ReadDouble(root, "attention_probs_dropout_prob", source) ?? 0.1,
            ClassifierDropout = ReadDouble(root, "classifier_dropout", source),
        };
        config.Validate(source);
        return config;
    }

    /// <summary>Writes the configuration as a Hugging Face <c>config.json</c> text.</summary>
    public string ToJson()
    {
        var root = new JsonObject
        {
            ["model_type"] = SourceModelType,
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["intermediate_size"] = IntermediateSize,
            ["hidden_act"] = HiddenAct,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["type_vocab_size"] = TypeVocabSize,
            ["layer_norm_eps"] = LayerNormEps,
            ["pad_token_id"] = PadTokenId,
            ["hidden_dropout_prob"] = HiddenDropoutProb,
            ["attention_probs_dropout_prob"] = AttentionProbsDropoutProb,
            ["position_embedding_type"] = "absolute",
        };
        if (ClassifierDropout is double classifierDropout)
            root["classifier_dropout"] = classifierDropout;
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Checks that the sizes describe a buildable encoder; <paramref name="source"/> names the origin in errors.</summary>
    /// <exception cref="InvalidDataException">A value is out of range.</exception>
    public void Validate(string source = "encoder configuration")
    {
        if (ModelType is not ("bert" or "roberta"))
            throw new InvalidDataException($"{source}: model type '{ModelType}' is not supported; expected 'bert' or 'roberta'.");
        RequirePositive(VocabSize, "vocab_size", source);
        RequirePositive(HiddenSize, "hidden_size", source);
        RequirePositive(NumHiddenLayers, "num_hidden_layers", source);
        RequirePositive(NumAttentionHeads, "num_attention_heads", source);
        RequirePositive(IntermediateSize, "intermediate_size", source);
        RequirePositive(MaxPositionEmbeddings, "max_position_embeddings", source);
        RequirePositive(TypeVocabSize, "type_vocab_size", source);
        if (HiddenSize % NumAttentionHeads != 0)
        {
            throw new InvalidDataException(
                $"{source}: hidden_size {HiddenSize} is not a multiple of num_attention_heads {NumAttentionHeads}.");
        }

        if (!SupportedActivations.Contains(HiddenAct))
        {
            throw new InvalidDataException(
                $"{source}: hidden_act '{HiddenAct}' is not supported; expected one of {string.Join(", ", SupportedActivations)}.");
        }

        if (!(LayerNormEps > 0))
            throw new InvalidDataException($"{source}: layer_norm_eps must be positive, got {LayerNormEps}.");
        if (PadTokenId < 0 || PadTokenId >= VocabSize)
            throw new InvalidDataException($"{source}: pad_token_id {PadTokenId} is outside the vocabulary [0, {VocabSize}).");
        if (IsRoberta && PadTokenId + 1 >= MaxPositionEmbeddings)
        {
            throw new InvalidDataException(
                $"{source}: RoBERTa positions start at pad_token_id + 1 = {PadTokenId + 1}, which leaves no room in max_position_embeddings {MaxPositionEmbeddings}.");
        }

        RequireProbability(HiddenDropoutProb, "hidden_dropout_prob", source);
        RequireProbability(AttentionProbsDropoutProb, "attention_probs_dropout_prob", source);
        if (ClassifierDropout is double classifierDropout)
            RequireProbability(classifierDropout, "classifier_dropout", source);
    }

    /// <summary>
    /// Where the real tokens' position ids start: <see cref="PadTokenId"/> + 1 for RoBERTa (its positions count from
    /// after the padding index), 0 for BERT.
    /// </summary>
    public int PositionOffset => IsRoberta ? PadTokenId + 1 : 0;

    /// <summary>
    /// The largest number of positions (prompt + tokens) one sequence may use after <paramref name="pastLength"/>
    /// prefix positions: BERT counts from 0, RoBERTa from <see cref="PositionOffset"/>.
    /// </summary>
    public int MaxSequenceLength(int pastLength = 0) => MaxPositionEmbeddings - pastLength - PositionOffset;

    /// <summary>The fewest tokens an input needs: two special tokens and one text token.</summary>
    internal const int MinTokens = 3;

    /// <summary>
    /// The token budget of one input (special tokens included) when <paramref name="prefixLength"/> prefix or prompt
    /// positions come first: <c>min(maxSequenceLength, <see cref="MaxSequenceLength"/>(prefixLength))</c>. This is the
    /// one place the position budget is decided; tokenization, training and inference all take its result.
    /// </summary>
    /// <param name="maxSequenceLength">The longest input the caller wants (an option), special tokens included.</param>
    /// <param name="prefixLength">Prefix or prompt positions before the tokens (0 for none).</param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="maxSequenceLength"/> is below <see cref="MinTokens"/>, or the prefix leaves fewer positions than that.
    /// </exception>
    public int MaxTokens(int maxSequenceLength, int prefixLength)
    {
        if (maxSequenceLength < MinTokens)
        {
            throw new ArgumentOutOfRangeException(nameof(maxSequenceLength), maxSequenceLength,
                $"The maximum sequence length must be at least {MinTokens} tokens (two special tokens and one text token).");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        int room = MaxSequenceLength(prefixLength);
        if (room < MinTokens)
        {
            throw new ArgumentOutOfRangeException(nameof(prefixLength), prefixLength,
                $"A prefix of {prefixLength} tokens leaves room for {room} real tokens in a {ModelType} model with " +
                $"max_position_embeddings = {MaxPositionEmbeddings} (position offset {PositionOffset}); at least {MinTokens} are needed. " +
                $"Use a prefix of at most {MaxSequenceLength() - MinTokens} tokens.");
        }

        return Math.Min(maxSequenceLength, room);
    }

    private static void RequirePositive(int value, string key, string source)
    {
        if (value <= 0)
            throw new InvalidDataException($"{source}: {key} must be positive, got {value}.");
    }

    private static void RequireProbability(double value, string key, string source)
    {
        if (!(value >= 0 && value < 1))
            throw new InvalidDataException($"{source}: {key} must be in [0, 1), got {value.ToString(CultureInfo.InvariantCulture)}.");
    }

    // Shared with the checkpoint loaders (adapter_config.json), so every configuration file fails alike on bad JSON.
    internal static JsonObject ParseObject(string json, string source)
    {
        try
        {
            return JsonNode.Parse(json) as JsonObject
                ?? throw new InvalidDataException($"{source}: expected a JSON object at the top level.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not valid JSON ({e.Message}).", e);
        }
    }

    internal static string? ReadString(JsonObject root, string key, string source) =>
        Read(root, key, source, "a string", e => e.ValueKind == JsonValueKind.String ? e.GetString() : null);

    internal static int? ReadInt(JsonObject root, string key, string source) =>
        Read(root, key, source, "an integer", e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int i) ? i : (int?)null);

    private static double? ReadDouble(JsonObject root, string key, string source) =>
        Read(root, key, source, "a number", e => e.ValueKind == JsonValueKind.Number ? e.GetDouble() : (double?)null);

    internal static bool ReadBool(JsonObject root, string key, string source) =>
        Read(root, key, source, "true or false", e => e.ValueKind is JsonValueKind.True or JsonValueKind.False ? e.GetBoolean() : (bool?)null) ?? false;

    // Absent or JSON null → null; a value <paramref name="convert"/> rejects (returns null for) → an error naming the key.
    private static T? Read<T>(JsonObject root, string key, string source, string expected, Func<JsonElement, T?> convert)
    {
        if (!root.TryGetPropertyValue(key, out JsonNode? node) || node is null)
            return default;
        T? value = node is JsonValue v && v.TryGetValue(out JsonElement element) ? convert(element) : default;
        return value ?? throw new InvalidDataException($"{source}: '{key}' must be {expected}, got {node.ToJsonString()}.");
    }
}
