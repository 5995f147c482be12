using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

/// <summary>
/// The trainable input-layer prompt of prompt tuning (Lester et al.; PEFT <c>PromptEmbedding</c>): P vectors of width H,
/// <c>embedding</c> <c>[P, H]</c>, placed before the token embeddings.
/// </summary>
public sealed class PromptEncoder : nn.Module<long, Tensor>
{
#pragma warning disable IDE1006 // names equal PEFT's state-dict names
    private readonly Embedding embedding;
#pragma warning restore IDE1006

    /// <summary>A prompt of <paramref name="length"/> vectors of width <paramref name="hiddenSize"/>, initialised N(0, 1) (PEFT's RANDOM init).</summary>
    public PromptEncoder(int length, int hiddenSize) : base(nameof(PromptEncoder))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hiddenSize, 1);
        Length = length;
        embedding = nn.Embedding(length, hiddenSize);
        RegisterComponents();
    }

    /// <summary>
    /// A prompt whose vectors are copies of randomly chosen rows of <paramref name="wordEmbeddings"/> <c>[vocab, H]</c>
    /// (PEFT's SAMPLE_VOCAB init), so it starts on the scale the encoder expects. Uses torch's global generator.
    /// </summary>
    public static PromptEncoder FromVocabulary(Tensor wordEmbeddings, int length)
    {
        ArgumentNullException.ThrowIfNull(wordEmbeddings);
        var prompt = new PromptEncoder(length, (int)wordEmbeddings.shape[1]);
        using (torch.no_grad())
        {
            Tensor rows = torch.randint(0, wordEmbeddings.shape[0], [length], dtype: ScalarType.Int64, device: wordEmbeddings.device);
            prompt.to(wordEmbeddings.device);
            prompt.embedding.weight!.copy_(wordEmbeddings.index_select(0, rows));
        }
        return prompt;
    }

    /// <summary>Prompt length P.</summary>
    public int Length { get; }

    /// <summary>The table <c>[P, H]</c>.</summary>
    public Parameter Table => embedding.weight!;

    /// <summary>The prompt for a batch: <c>[B, P, H]</c>.</summary>
    public override Tensor forward(long batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        return Table.unsqueeze(0).expand(batchSize, -1, -1);
    }
}
