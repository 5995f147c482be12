using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

/// <summary>
/// HF <c>BertEmbeddings</c> / <c>RobertaEmbeddings</c>: word + position + token-type embeddings, then LayerNorm and
/// dropout. Field names equal the checkpoint's (<c>embeddings.word_embeddings.weight</c>, ...).
/// </summary>
internal sealed class EncoderEmbeddings : nn.Module
{
#pragma warning disable IDE1006 // names equal the checkpoint's tensor names
    private readonly Embedding word_embeddings;
    private readonly Embedding position_embeddings;
    private readonly Embedding token_type_embeddings;
    private readonly LayerNorm LayerNorm;
    private readonly EncoderDropout dropout;
#pragma warning restore IDE1006

    private readonly EncoderConfig _config;

    public EncoderEmbeddings(EncoderConfig config) : base("embeddings")
    {
        _config = config;
        word_embeddings = nn.Embedding(config.VocabSize, config.HiddenSize, padding_idx: config.PadTokenId);
        // RoBERTa's position table has a padding row (the pad token's position); BERT's has none.
        position_embeddings = config.IsRoberta
            ? nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize, padding_idx: config.PadTokenId)
            : nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize);
        token_type_embeddings = nn.Embedding(config.TypeVocabSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        dropout = new EncoderDropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    /// <summary>The word-embedding table <c>[vocab, H]</c>.</summary>
    public Parameter WordEmbeddingWeight => word_embeddings.weight!;

    /// <summary>
    /// Embeds <paramref name="inputIds"/> <c>[B, T]</c>, with <paramref name="promptEmbeddings"/> <c>[B, Q, H]</c>
    /// (or null) placed before the tokens, after <paramref name="pastLength"/> prefix positions. Returns
    /// <c>[B, Q + T, H]</c>. With <paramref name="insertedPrompt"/> <c>[Q', H]</c> (P-Tuning v1), a negative id −(k + 1)
    /// among the tokens takes prompt vector k instead of a word embedding, then gets the token's position and type.
    /// </summary>
    public Tensor forward(Tensor inputIds, Tensor? tokenTypeIds, Tensor? promptEmbeddings, int pastLength, Tensor? insertedPrompt = null)
    {
        long batch = inputIds.shape[0];
        int promptLength = promptEmbeddings is null ? 0 : (int)promptEmbeddings.shape[1];

        Tensor inputsEmbeds;
        if (insertedPrompt is null)
        {
            inputsEmbeds = word_embeddings.forward(inputIds);
        }
        else
        {
            Tensor slots = inputIds.lt(ScalarOperand.ZeroInt);
            Tensor words = word_embeddings.forward(inputIds.clamp_min(ScalarOperand.ZeroInt));
            Tensor index = inputIds.neg().sub(ScalarOperand.OneInt).clamp_min(ScalarOperand.ZeroInt);
            Tensor vectors = insertedPrompt.to_type(words.dtype).index_select(0, index.flatten()).view(words.shape);
            inputsEmbeds = torch.where(slots.unsqueeze(-1), vectors, words);
        }
        if (promptEmbeddings is not null)
            inputsEmbeds = torch.cat([promptEmbeddings.to_type(inputsEmbeds.dtype), inputsEmbeds], dim: 1);

        // Absent token types are all zeros (HF); prompt positions are type 0 (PEFT).
        Tensor tokenTypes = tokenTypeIds ?? torch.zeros_like(inputIds);
        if (promptLength > 0)
            tokenTypes = torch.cat([torch.zeros(batch, promptLength, dtype: tokenTypes.dtype, device: tokenTypes.device), tokenTypes], dim: 1);

        Tensor positions = PositionIds(_config, inputIds, pastLength, promptLength);
        Tensor embeddings = inputsEmbeds + token_type_embeddings.forward(tokenTypes) + position_embeddings.forward(positions);
        return dropout.forward(LayerNorm.forward(embeddings));
    }

    /// <summary>
    /// Position ids <c>[B, Q + T]</c> for Q prompt vectors followed by the tokens <paramref name="inputIds"/>, after
    /// <paramref name="pastLength"/> prefix positions.
    /// </summary>
    /// <remarks>
    /// BERT: <c>past, past + 1, ...</c> for the whole sequence (HF slices its position table from past_key_values_length).
    /// RoBERTa, tokens: HF <c>create_position_ids_from_input_ids</c> with past_key_values_length = past + Q, i.e.
    /// <c>(cumsum(ids != pad) + past + Q) · (ids != pad) + pad</c> — padding tokens (by id, not by attention mask, as in
    /// HF) get the padding index. RoBERTa, prompt vectors: <c>pad + 1 + past, ..., pad + past + Q</c>, the sequential ids
    /// HF gives embeddings it cannot see the padding of; for right-padded input this equals what PEFT's prompt tuning
    /// feeds HF, and unlike it stays correct for left padding.
    /// </remarks>
    /// <exception cref="ArgumentException">The positions would run past <c>max_position_embeddings</c>.</exception>
    public static Tensor PositionIds(EncoderConfig config, Tensor inputIds, int pastLength, int promptLength)
    {
        long length = inputIds.shape[1];
        long needed = pastLength + promptLength + length;
        int available = config.MaxSequenceLength();
        if (needed > available)
        {
            throw new ArgumentException(
                $"A sequence of {length} tokens after a prefix of {pastLength} and a prompt of {promptLength} positions needs " +
                $"{needed} positions, but max_position_embeddings {config.MaxPositionEmbeddings} leaves room for {available}" +
                (config.IsRoberta ? $" (RoBERTa positions start at pad_token_id + 1 = {config.PadTokenId + 1})." : "."),
                nameof(inputIds));
        }

        long batch = inputIds.shape[0];
        Device device = inputIds.device;
        if (!config.IsRoberta)
        {
            return ScalarOperand.With(pastLength, pastLength + promptLength + length,
                    (start, stop) => torch.arange(start, stop, dtype: ScalarType.Int64, device: device))
                .unsqueeze(0).expand(batch, -1);
        }

        long pad = config.PadTokenId;
        Tensor notPad = ScalarOperand.With(pad, padId => inputIds.ne(padId)).to_type(ScalarType.Int64);
        Tensor tokenPositions = ScalarOperand.With(pastLength + promptLength, pad,
            (offset, padId) => notPad.cumsum(1).add(offset).mul(notPad).add(padId));
        if (promptLength == 0)
            return tokenPositions;
        Tensor promptPositions = ScalarOperand.With(pad + 1 + pastLength, pad + 1 + pastLength + promptLength,
                (start, stop) => torch.arange(start, stop, dtype: ScalarType.Int64, device: device))
            .unsqueeze(0).expand(batch, -1);
        return torch.cat([promptPositions, tokenPositions], dim: 1);
    }
}
