using System.Text.Json.Nodes;
using Microsoft.ML.PTuning.Modeling;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Checkpoints;

/// <summary>
/// A prefix-tuning adapter saved by Hugging Face PEFT (<c>save_pretrained</c>): <c>adapter_config.json</c> and
/// <c>adapter_model.safetensors</c> (or <c>adapter_model.bin</c>), read into the names
/// <see cref="PrefixTunedModel.LoadAdapterStateDict"/> takes.
/// </summary>
/// <remarks>
/// <para>
/// PEFT saves a prefix as <c>prompt_embeddings</c> <c>[P, 2·L·H]</c> — already folded when it was trained through the
/// projection MLP — and the task head under <c>base_model.classifier.*</c>; here the head keeps its Hugging Face name
/// without <c>base_model.</c> (<c>classifier.dense.weight</c>, ...), which is the model's adapter name.
/// </para>
/// <para>Only <c>PREFIX_TUNING</c> adapters for <c>SEQ_CLS</c> or <c>TOKEN_CLS</c> on an encoder are supported.</para>
/// <para>Owns its tensors (CPU); dispose it once they are loaded into a model.</para>
/// </remarks>
public sealed class PeftAdapter : IDisposable
{
    /// <summary>The adapter configuration file name.</summary>
    public const string ConfigFileName = "adapter_config.json";

    /// <summary>The PEFT type this loader reads.</summary>
    public const string PrefixTuningPeftType = "PREFIX_TUNING";

    /// <summary>The weight files looked for, in order of preference.</summary>
    public static IReadOnlyList<string> WeightFileNames { get; } = ["adapter_model.safetensors", "adapter_model.bin"];

    // PeftModel keeps the task model under base_model (prefix tuning); tuners that wrap it once more add model.
    private static readonly string[] BaseModelPrefixes = ["base_model.model.", "base_model."];

    private readonly Dictionary<string, Tensor> _stateDict;

    private PeftAdapter(string configPath, string weightsPath, TaskKind task, int numVirtualTokens, bool prefixProjection,
        int? numLayers, int? tokenDim, int? numAttentionHeads, Dictionary<string, Tensor> stateDict)
    {
        ConfigPath = configPath;
        WeightsPath = weightsPath;
        Task = task;
        NumVirtualTokens = numVirtualTokens;
        PrefixProjection = prefixProjection;
        NumLayers = numLayers;
        TokenDim = tokenDim;
        NumAttentionHeads = numAttentionHeads;
        _stateDict = stateDict;
    }

    /// <summary>Full path of <c>adapter_config.json</c>.</summary>
    public string ConfigPath { get; }

    /// <summary>Full path of the weight file that was read.</summary>
    public string WeightsPath { get; }

    /// <summary>The tuning method the adapter was trained with (always <see cref="TuningMethod.PrefixTuning"/>).</summary>
    public TuningMethod Method => TuningMethod.PrefixTuning;

    /// <summary>The task, from <c>task_type</c> (<c>SEQ_CLS</c> or <c>TOKEN_CLS</c>).</summary>
    public TaskKind Task { get; }

    /// <summary>Prefix length P (<c>num_virtual_tokens</c>).</summary>
    public int NumVirtualTokens { get; }

    /// <summary>
    /// Whether the prefix was trained through the projection MLP (<c>prefix_projection</c>). Informational: the saved
    /// table is the MLP's output either way.
    /// </summary>
    public bool PrefixProjection { get; }

    /// <summary>Layers of the encoder the adapter was made for (<c>num_layers</c>), if the file says.</summary>
    public int? NumLayers { get; }

    /// <summary>Hidden size of that encoder (<c>token_dim</c>), if the file says.</summary>
    public int? TokenDim { get; }

    /// <summary>Attention heads of that encoder (<c>num_attention_heads</c>), if the file says.</summary>
    public int? NumAttentionHeads { get; }

    /// <summary>
    /// Number of labels of the saved head (rows of <c>classifier.out_proj.weight</c> or <c>classifier.weight</c>), or
    /// null when the adapter holds no head.
    /// </summary>
    public int? NumLabels =>
        (_stateDict.GetValueOrDefault("classifier.out_proj.weight") ?? _stateDict.GetValueOrDefault("classifier.weight")) is Tensor w
        && w.dim() == 2
            ? (int)w.shape[0]
            : null;

    /// <summary>
    /// The tensors under the names of <see cref="PrefixTunedModel.AdapterStateDict"/>: <c>prompt_embeddings</c>
    /// <c>[P, 2·L·H]</c> and the head (<c>classifier.*</c>). Pass to <see cref="PrefixTunedModel.LoadAdapterStateDict"/>.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> StateDict => _stateDict;

    /// <summary>Reads <c>adapter_config.json</c> and the adapter weights from <paramref name="folder"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">adapter_config.json or every weight file is missing.</exception>
    /// <exception cref="NotSupportedException">The adapter is not prefix tuning, or its task is not SEQ_CLS / TOKEN_CLS.</exception>
    /// <exception cref="InvalidDataException">A file cannot be read, a setting is missing or malformed, or
    /// <c>prompt_embeddings</c> is missing or disagrees with the configuration.</exception>
    public static PeftAdapter Load(string folder)
    {
        CheckpointFolder root = CheckpointFolder.Open(folder, "Adapter folder");
        string configPath = root.RequireFile(ConfigFileName);

        JsonObject config = CheckpointFolder.ReadJsonObject(configPath);
        string peftType = EncoderConfig.ReadString(config, "peft_type", configPath)
            ?? throw new InvalidDataException($"{configPath}: 'peft_type' is missing; expected \"{PrefixTuningPeftType}\".");
        if (peftType != PrefixTuningPeftType)
        {
            throw new NotSupportedException(
                $"{configPath}: peft_type '{peftType}' is not supported; only {PrefixTuningPeftType} adapters can be loaded.");
        }

        string? taskType = EncoderConfig.ReadString(config, "task_type", configPath);
        TaskKind task = taskType switch
        {
            "SEQ_CLS" => TaskKind.SequenceClassification,
            "TOKEN_CLS" => TaskKind.TokenClassification,
            _ => throw new NotSupportedException(
                $"{configPath}: task_type '{taskType ?? "null"}' is not supported; expected SEQ_CLS or TOKEN_CLS."),
        };
        int numVirtualTokens = EncoderConfig.ReadInt(config, "num_virtual_tokens", configPath)
            ?? throw new InvalidDataException($"{configPath}: 'num_virtual_tokens' is missing.");
        if (numVirtualTokens < 1)
            throw new InvalidDataException($"{configPath}: num_virtual_tokens must be at least 1, got {numVirtualTokens}.");
        int submodules = EncoderConfig.ReadInt(config, "num_transformer_submodules", configPath) ?? 1;
        if (submodules != 1)
        {
            throw new NotSupportedException(
                $"{configPath}: num_transformer_submodules {submodules} is an encoder-decoder adapter; only encoders (1) are supported.");
        }

        bool projection = EncoderConfig.ReadBool(config, "prefix_projection", configPath);
        int? numLayers = EncoderConfig.ReadInt(config, "num_layers", configPath);
        int? tokenDim = EncoderConfig.ReadInt(config, "token_dim", configPath);
        int? heads = EncoderConfig.ReadInt(config, "num_attention_heads", configPath);

        string weightsPath = root.RequireWeightFile(WeightFileNames);
        Dictionary<string, Tensor> stateDict = ToAdapterNames(HuggingFaceCheckpoint.ReadWeights(weightsPath));
        var adapter = new PeftAdapter(configPath, weightsPath, task, numVirtualTokens, projection, numLayers, tokenDim, heads, stateDict);
        try
        {
            adapter.CheckPrefixTable();
        }
        catch
        {
            adapter.Dispose();
            throw;
        }
        return adapter;
    }

    /// <summary>Checks that the adapter was made for an encoder of <paramref name="config"/>'s sizes.</summary>
    /// <exception cref="InvalidDataException">Layers, hidden size, heads or the prefix table's width differ (named).</exception>
    public void CheckFits(EncoderConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var problems = new List<string>();
        if (NumLayers is int layers && layers != config.NumHiddenLayers)
            problems.Add($"num_layers {layers} but the encoder has {config.NumHiddenLayers} layers");
        if (TokenDim is int dim && dim != config.HiddenSize)
            problems.Add($"token_dim {dim} but the encoder's hidden size is {config.HiddenSize}");
        if (NumAttentionHeads is int heads && heads != config.NumAttentionHeads)
            problems.Add($"num_attention_heads {heads} but the encoder has {config.NumAttentionHeads}");
        long width = 2L * config.NumHiddenLayers * config.HiddenSize;
        long tableWidth = _stateDict[PrefixTunedModel.PromptEmbeddingsKey].shape[1];
        if (tableWidth != width)
            problems.Add($"{PrefixTunedModel.PromptEmbeddingsKey} is {tableWidth} wide but the encoder needs 2·layers·hidden = {width}");
        if (problems.Count > 0)
        {
            throw new InvalidDataException(
                $"The adapter in '{Path.GetDirectoryName(ConfigPath)}' does not fit this {config.ModelType} encoder: {string.Join("; ", problems)}.");
        }
    }

    /// <summary>
    /// A <see cref="PrefixTunedModel"/> over <paramref name="backbone"/> with this adapter's task, prefix length and head
    /// loaded (the prefix as the flat table PEFT saved). The model is in training mode, as new modules are; call
    /// <c>eval()</c> for inference.
    /// </summary>
    /// <exception cref="InvalidDataException">The adapter does not fit the backbone, or holds no head.</exception>
    public PrefixTunedModel CreateModel(TransformerEncoder backbone, double? dropout = null)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        CheckFits(backbone.Config);
        int numLabels = NumLabels
            ?? throw new InvalidDataException(
                $"{WeightsPath}: holds no task head (classifier.*), so the number of labels is unknown.");
        var model = new PrefixTunedModel(backbone, Task, numLabels, TuningMethod.PrefixTuning, NumVirtualTokens,
            prefixProjection: false, dropout: dropout);
        try
        {
            model.LoadAdapterStateDict(_stateDict);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return model;
    }

    /// <summary>Releases the adapter's tensors.</summary>
    public void Dispose()
    {
        foreach (Tensor t in _stateDict.Values)
            t.Dispose();
        _stateDict.Clear();
    }

    // PEFT's saved names → the model's adapter names: base_model.classifier.x → classifier.x; prompt_embeddings stays.
    private static Dictionary<string, Tensor> ToAdapterNames(Dictionary<string, Tensor> saved)
    {
        var renamed = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in saved)
        {
            string? prefix = BaseModelPrefixes.FirstOrDefault(p => name.StartsWith(p, StringComparison.Ordinal));
            renamed[prefix is null ? name : name[prefix.Length..]] = tensor;
        }
        return renamed;
    }

    private void CheckPrefixTable()
    {
        if (!_stateDict.TryGetValue(PrefixTunedModel.PromptEmbeddingsKey, out Tensor? table))
        {
            throw new InvalidDataException(
                $"{WeightsPath}: no '{PrefixTunedModel.PromptEmbeddingsKey}' tensor; a prefix-tuning adapter saves its prefix under that name " +
                $"(found: {string.Join(", ", _stateDict.Keys.Order(StringComparer.Ordinal))}).");
        }

        if (table.dim() != 2 || table.shape[0] != NumVirtualTokens)
        {
            throw new InvalidDataException(
                $"{WeightsPath}: '{PrefixTunedModel.PromptEmbeddingsKey}' has shape [{string.Join(", ", table.shape)}]; " +
                $"expected [{NumVirtualTokens} (num_virtual_tokens), 2·layers·hidden].");
        }

        if (NumLayers is int layers && TokenDim is int dim && table.shape[1] != 2L * layers * dim)
        {
            throw new InvalidDataException(
                $"{WeightsPath}: '{PrefixTunedModel.PromptEmbeddingsKey}' is {table.shape[1]} wide; num_layers {layers} and token_dim {dim} " +
                $"in {ConfigFileName} need {2L * layers * dim}.");
        }
    }
}
