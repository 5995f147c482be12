using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

/// <summary>
/// The masked-language-model head of a pretrained encoder, computing what Hugging Face's <c>RobertaLMHead</c>
/// (<c>lm_head</c>: <c>dense</c>, gelu, <c>layer_norm</c>, decoder, <c>bias</c>) and <c>BertLMPredictionHead</c>
/// (<c>cls.predictions</c>: <c>transform.dense</c>, <c>hidden_act</c>, <c>transform.LayerNorm</c>, decoder, <c>bias</c>)
/// compute: <c>logits = LayerNorm(act(dense(h))) · Eᵀ + bias</c>, the decoder tied to the encoder's word embeddings E.
/// </summary>
/// <remarks>
/// The decoder weight is the encoder's word-embedding table, not a copy: Hugging Face ties them
/// (<c>tie_word_embeddings</c>, on for every BERT and RoBERTa checkpoint), and <c>save_pretrained</c> writes the table once,
/// so a <c>decoder.weight</c> in a file is read as the tied table and not loaded. Part of the frozen base: the encoder is
/// shared, not owned (not registered, not disposed).
/// </remarks>
public sealed class MaskedLanguageModelHead : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // names equal HF's state-dict names (RoBERTa's; see HuggingFaceName for BERT's)
    private readonly Linear dense;
    private readonly LayerNorm layer_norm;
    private readonly Parameter bias;
#pragma warning restore IDE1006

    private readonly TransformerEncoder _encoder;
    private readonly Func<Tensor, Tensor> _activation;

    /// <summary>A randomly initialised head for <paramref name="encoder"/>'s sizes, its decoder tied to the encoder's word embeddings.</summary>
    public MaskedLanguageModelHead(TransformerEncoder encoder) : base(nameof(MaskedLanguageModelHead))
    {
        ArgumentNullException.ThrowIfNull(encoder);
        _encoder = encoder;
        EncoderConfig config = encoder.Config;
        // RoBERTa's lm_head always uses the exact gelu; BERT's transform uses the config's hidden_act.
        _activation = Activations.Get(config.IsRoberta ? "gelu" : config.HiddenAct);
        dense = nn.Linear(config.HiddenSize, config.HiddenSize);
        layer_norm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        bias = new Parameter(torch.zeros(config.VocabSize));
        register_module(nameof(dense), dense);
        register_module(nameof(layer_norm), layer_norm);
        register_parameter(nameof(bias), bias);
    }

    /// <summary>The vocabulary size V (rows of the tied decoder).</summary>
    public long VocabularySize => bias.shape[0];

    /// <summary>The Hugging Face checkpoint name of one of this head's parameters (<c>dense.weight</c>, <c>layer_norm.bias</c>, <c>bias</c>, ...).</summary>
    public static string HuggingFaceName(string parameterName, bool roberta)
    {
        ArgumentNullException.ThrowIfNull(parameterName);
        if (roberta)
            return "lm_head." + parameterName;
        return parameterName == "bias"
            ? "cls.predictions.bias"
            : "cls.predictions.transform." + parameterName.Replace("layer_norm.", "LayerNorm.", StringComparison.Ordinal);
    }

    /// <summary>The decoder's own bias name (HF ties it to <c>bias</c>; a file may hold either).</summary>
    public static string DecoderBiasName(bool roberta) => roberta ? "lm_head.decoder.bias" : "cls.predictions.decoder.bias";

    /// <summary>Logits over the whole vocabulary <c>[..., V]</c> for hidden states <c>[..., H]</c>, in fp32.</summary>
    public override Tensor forward(Tensor hidden)
    {
        using var scope = torch.NewDisposeScope();
        Tensor x = Transform(hidden);
        return (torch.matmul(x, _encoder.WordEmbeddingWeight.t()) + bias).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Logits of the vocabulary ids <paramref name="tokenIds"/> <c>[K]</c> only, for hidden states <c>[N, H]</c>: <c>[N, K]</c>
    /// in fp32, equal to the matching columns of <see cref="forward"/> without computing the other V − K.
    /// </summary>
    public Tensor Logits(Tensor hidden, Tensor tokenIds)
    {
        ArgumentNullException.ThrowIfNull(tokenIds);
        using var scope = torch.NewDisposeScope();
        Tensor x = Transform(hidden);
        Tensor rows = _encoder.WordEmbeddingWeight.index_select(0, tokenIds);
        return (torch.matmul(x, rows.t()) + bias.index_select(0, tokenIds)).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    private Tensor Transform(Tensor hidden)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        ScalarType own = bias.dtype;
        Tensor h = hidden.dtype == own ? hidden : hidden.to_type(own);
        return layer_norm.forward(_activation(dense.forward(h)));
    }

    // The encoder is shared, not owned: only dense, layer_norm and bias (registered in the constructor) belong here.
    /// <inheritdoc/>
    protected override void RegisterComponents()
    {
    }
}
