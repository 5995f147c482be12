using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

/// <summary>
/// A BERT- or RoBERTa-family encoder, computing what Hugging Face's <c>BertModel</c> / <c>RobertaModel</c> computes,
/// with parameter names equal to the checkpoint's (<c>embeddings.*</c>, <c>encoder.layer.N.*</c>, <c>pooler.dense.*</c>).
/// </summary>
/// <remarks>
/// Besides the tokens it accepts a deep prefix (per-layer keys/values, P-Tuning v2) and/or input-layer prompt vectors
/// (prompt tuning). Every size comes from <see cref="EncoderConfig"/>.
/// </remarks>
public sealed class TransformerEncoder : nn.Module<Tensor, Tensor, Tensor?, PastKeyValues?, Tensor?, Tensor>
{
#pragma warning disable IDE1006 // names equal the checkpoint's tensor names
    private readonly EncoderEmbeddings embeddings;
    private readonly EncoderStack encoder;
    private readonly EncoderPooler? pooler;
#pragma warning restore IDE1006

    /// <summary>Builds a randomly initialised encoder; load weights with <c>HuggingFaceCheckpoint.LoadInto</c>.</summary>
    /// <param name="config">The sizes; validated here.</param>
    /// <param name="addPoolingLayer">Whether to build <c>pooler.dense</c> (needed by the BERT sequence-classification head).</param>
    public TransformerEncoder(EncoderConfig config, bool addPoolingLayer = true) : base(nameof(TransformerEncoder))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        embeddings = new EncoderEmbeddings(config);
        encoder = new EncoderStack(config);
        pooler = addPoolingLayer ? new EncoderPooler(config) : null;
        RegisterComponents();
    }

    /// <summary>The configuration this encoder was built from.</summary>
    public EncoderConfig Config { get; }

    /// <summary>Whether the encoder has a pooler (<c>pooler.dense</c>).</summary>
    public bool HasPooler => pooler is not null;

    /// <summary>The word-embedding table <c>[vocab, H]</c> (used to initialise prompts from real token vectors).</summary>
    public Parameter WordEmbeddingWeight => embeddings.WordEmbeddingWeight;

    /// <summary>
    /// Runs the encoder and returns the last hidden state <c>[B, Q + T, H]</c> (Q = prompt length, 0 without a prompt).
    /// </summary>
    /// <param name="inputIds">Token ids <c>[B, T]</c>, int64.</param>
    /// <param name="attentionMask"><c>[B, T]</c>, 1/true for real tokens, 0/false for padding (int64, int32 or bool).</param>
    /// <param name="tokenTypeIds">Segment ids <c>[B, T]</c>, or null for all zeros.</param>
    /// <param name="prefix">Deep prefix of length P for every layer, or for the top <c>prefix.LayerCount</c> layers
    /// (partial depth), or null. The layers it covers attend to it, their mask is extended with ones for it, and the
    /// tokens' position ids are shifted by P (HF past_key_values_length).</param>
    /// <param name="promptEmbeddings">Prompt vectors <c>[B, Q, H]</c> placed before the token embeddings (PEFT prompt
    /// tuning: they get positions and token type 0, then pass the embedding LayerNorm with the tokens), or null.</param>
    /// <exception cref="ArgumentException">Shapes disagree with each other or with the configuration.</exception>
    public override Tensor forward(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds, PastKeyValues? prefix, Tensor? promptEmbeddings)
    {
        CheckInputs(inputIds, attentionMask, tokenTypeIds, prefix, promptEmbeddings);
        using var scope = torch.NewDisposeScope();
        int pastLength = prefix?.Length ?? 0;
        int promptLength = promptEmbeddings is null ? 0 : (int)promptEmbeddings.shape[1];

        Tensor hidden = embeddings.forward(inputIds, tokenTypeIds, promptEmbeddings, pastLength);
        return Layers(hidden, attentionMask, promptLength, prefix, 0, Config.NumHiddenLayers).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Runs the encoder over tokens some of which are prompt vectors (P-Tuning v1): an id −(k + 1) in
    /// <paramref name="inputIds"/> stands for row k of <paramref name="promptVectors"/> <c>[Q, H]</c>, which replaces the word
    /// embedding there and, like a word, gets that position, its token type and the embedding LayerNorm. Returns the last
    /// hidden state <c>[B, T, H]</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes disagree, or an id is below −Q.</exception>
    public Tensor ForwardWithInsertedPrompt(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds, Tensor promptVectors)
    {
        CheckInputs(inputIds, attentionMask, tokenTypeIds, null, null);
        ArgumentNullException.ThrowIfNull(promptVectors);
        if (promptVectors.dim() != 2 || promptVectors.shape[1] != Config.HiddenSize)
            throw new ArgumentException($"promptVectors must be [prompt length, {Config.HiddenSize}]; got [{Shape(promptVectors)}].", nameof(promptVectors));
        using var scope = torch.NewDisposeScope();
        long lowest = inputIds.min().item<long>();
        if (lowest < -promptVectors.shape[0])
            throw new ArgumentException($"inputIds holds the prompt slot {lowest}, beyond the {promptVectors.shape[0]} prompt vectors (slots are -1 to -{promptVectors.shape[0]}).", nameof(inputIds));
        Tensor hidden = embeddings.forward(inputIds, tokenTypeIds, null, 0, promptVectors);
        return Layers(hidden, attentionMask, 0, null, 0, Config.NumHiddenLayers).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The hidden state <c>[B, T, H]</c> after the embeddings and the first <paramref name="layers"/> layers, which a
    /// prefix over the layers above does not reach: it depends on the input alone (and on the prefix length, by which
    /// the tokens' positions are shifted). <see cref="ForwardAbove"/> finishes the pass.
    /// </summary>
    /// <param name="inputIds">Token ids <c>[B, T]</c>, int64.</param>
    /// <param name="attentionMask"><c>[B, T]</c>, 1/true for real tokens, 0/false for padding.</param>
    /// <param name="tokenTypeIds">Segment ids <c>[B, T]</c>, or null for all zeros.</param>
    /// <param name="prefixLength">Length P of the prefix the layers above take (positions start after it).</param>
    /// <param name="layers">Layers to run, from the bottom (0 returns the embeddings, all of them the last hidden state).</param>
    public Tensor ForwardBelow(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds, int prefixLength, int layers)
    {
        CheckInputs(inputIds, attentionMask, tokenTypeIds, null, null);
        if (layers < 0 || layers > Config.NumHiddenLayers)
            throw new ArgumentOutOfRangeException(nameof(layers), layers, $"Layers below a prefix number 0 to {Config.NumHiddenLayers} (all: the last hidden state).");
        using var scope = torch.NewDisposeScope();
        Tensor hidden = embeddings.forward(inputIds, tokenTypeIds, null, prefixLength);
        return Layers(hidden, attentionMask, 0, null, 0, layers).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Runs the top <c>prefix.LayerCount</c> layers with the prefix over <paramref name="hidden"/> <c>[B, T, H]</c>,
    /// what <see cref="ForwardBelow"/> returned for the layers beneath (its rows padded or not: padding is masked), and
    /// returns the last hidden state <c>[B, T, H]</c>, as <see cref="forward"/> would.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes disagree with each other or with the configuration.</exception>
    public Tensor ForwardAbove(Tensor hidden, Tensor attentionMask, PastKeyValues prefix)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        ArgumentNullException.ThrowIfNull(prefix);
        if (hidden.dim() != 3 || hidden.shape[2] != Config.HiddenSize)
            throw new ArgumentException($"hidden must be [batch, tokens, {Config.HiddenSize}]; got [{Shape(hidden)}].", nameof(hidden));
        ArgumentNullException.ThrowIfNull(attentionMask);
        CheckPrefix(prefix, hidden.shape[0]);
        if (attentionMask.dim() != 2 || hidden.shape[0] != attentionMask.shape[0] || hidden.shape[1] != attentionMask.shape[1])
            throw new ArgumentException($"hidden [{Shape(hidden)}] must match attentionMask [{Shape(attentionMask)}] in batch and tokens.", nameof(hidden));
        using var scope = torch.NewDisposeScope();
        int layers = Config.NumHiddenLayers;
        return Layers(hidden, attentionMask, 0, prefix, layers - prefix.LayerCount, layers).MoveToOuterDisposeScope();
    }

    // Layers [from, to): the layers a prefix covers (the top prefix.LayerCount) see its columns in the mask, the others not.
    private Tensor Layers(Tensor hidden, Tensor attentionMask, int promptLength, PastKeyValues? prefix, int from, int to)
    {
        int firstWithPrefix = Config.NumHiddenLayers - (prefix?.LayerCount ?? 0);
        Tensor? tokenMask = from < firstWithPrefix ? AdditiveMask(attentionMask, promptLength, hidden.dtype) : null;
        Tensor? prefixMask = prefix is not null && to > firstWithPrefix ? AdditiveMask(attentionMask, prefix.Length + promptLength, hidden.dtype) : null;
        return encoder.forward(hidden, tokenMask, prefixMask, prefix, from, to);
    }

    /// <summary>The pooler output (<c>tanh(dense(h[:, 0]))</c>, HF <c>pooler_output</c>) of <paramref name="sequenceOutput"/> <c>[B, T, H]</c>.</summary>
    /// <exception cref="InvalidOperationException">The encoder was built without a pooler.</exception>
    public Tensor Pool(Tensor sequenceOutput) =>
        pooler is null
            ? throw new InvalidOperationException("This encoder has no pooler (pooler.dense); build it with addPoolingLayer: true.")
            : pooler.forward(sequenceOutput);

    /// <summary>
    /// A deep copy on the same device and in the same element type, with the same weights and training mode and every parameter trainable — for
    /// full fine-tuning, which must not change a backbone other models share.
    /// </summary>
    public TransformerEncoder Clone()
    {
        var copy = new TransformerEncoder(Config, HasPooler);
        Parameter first = parameters().First();
        copy.to(first.device, first.dtype);
        using (torch.no_grad())
        {
            var source = named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var (name, parameter) in copy.named_parameters())
                parameter.copy_(source[name]);
        }
        copy.train(training);
        return copy;
    }

    /// <summary>
    /// The additive attention mask <c>[B, 1, 1, extra + T]</c>: 0 where a key is visible, the dtype's minimum where it
    /// is not (as HF's <c>get_extended_attention_mask</c>), with <paramref name="extraVisible"/> always-visible
    /// positions (prefix and prompt) before the tokens.
    /// </summary>
    internal static Tensor AdditiveMask(Tensor attentionMask, int extraVisible, ScalarType dtype)
    {
        Tensor mask = attentionMask.to_type(dtype);
        if (extraVisible > 0)
            mask = torch.cat([torch.ones(mask.shape[0], extraVisible, dtype: dtype, device: mask.device), mask], dim: 1);
        return ScalarOperand.With(torch.finfo(dtype).min, min => mask.neg().add(ScalarOperand.One).mul(min)).unsqueeze(1).unsqueeze(1);
    }

    private void CheckInputs(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds, PastKeyValues? prefix, Tensor? promptEmbeddings)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(attentionMask);
        if (inputIds.dim() != 2)
            throw new ArgumentException($"inputIds must be [batch, tokens]; got [{Shape(inputIds)}].", nameof(inputIds));
        if (!inputIds.shape.SequenceEqual(attentionMask.shape))
            throw new ArgumentException($"attentionMask [{Shape(attentionMask)}] must have the shape of inputIds [{Shape(inputIds)}].", nameof(attentionMask));
        if (tokenTypeIds is not null && !inputIds.shape.SequenceEqual(tokenTypeIds.shape))
            throw new ArgumentException($"tokenTypeIds [{Shape(tokenTypeIds)}] must have the shape of inputIds [{Shape(inputIds)}].", nameof(tokenTypeIds));
        long batch = inputIds.shape[0];
        if (prefix is not null)
            CheckPrefix(prefix, batch);
        if (promptEmbeddings is not null
            && (promptEmbeddings.dim() != 3 || promptEmbeddings.shape[0] != batch || promptEmbeddings.shape[2] != Config.HiddenSize))
        {
            throw new ArgumentException(
                $"promptEmbeddings have shape [{Shape(promptEmbeddings)}]; expected [{batch}, prompt length, {Config.HiddenSize}].",
                nameof(promptEmbeddings));
        }
    }

    private void CheckPrefix(PastKeyValues prefix, long batch)
    {
        Tensor kv = prefix.KeyValues;
        long layers = Math.Clamp(prefix.LayerCount, 1, Config.NumHiddenLayers);
        long[] expected = [2L * layers, batch, Config.NumAttentionHeads, prefix.Length, Config.HeadDim];
        if (!kv.shape.SequenceEqual(expected))
        {
            throw new ArgumentException(
                $"Prefix keys/values have shape [{Shape(kv)}]; this encoder needs [{string.Join(", ", expected)}] " +
                $"([2·layers, batch, heads, prefix length, head_dim], for 1 to {Config.NumHiddenLayers} top layers).", nameof(prefix));
        }
    }

    private static string Shape(Tensor t) => string.Join(", ", t.shape);
}
