using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

/// <summary>
/// The class logits of the masked-language-model methods: the frozen <see cref="MaskedLanguageModelHead"/>'s logits at the
/// mask for each class's label words. Input: the hidden state at the mask <c>[B, H]</c>; output <c>[B, C]</c>.
/// </summary>
/// <remarks>
/// <b>Several pieces, several words.</b> A label word that tokenizes into several pieces scores the <b>mean of its
/// pieces' logits</b> at the one mask; a class with several label words scores the <b>mean of its words' scores</b>
/// (PET's rule for several verbalizations). Both are averages of logits, so the class logits are one fixed linear map of
/// the label pieces' logits, computed from those K columns only (never the whole vocabulary). A class whose only word is
/// one piece scores exactly that piece's logit. The softmax over the class logits is the class score.
/// </remarks>
public sealed class VerbalizerHead : TaskHead
{
    private readonly MaskedLanguageModelHead _mlm;
    private readonly Tensor _pieces;        // [K] distinct vocabulary ids of all label words
    private readonly Tensor _combination;   // [C, K] class logit = combination · piece logits

    /// <summary>A head over <paramref name="mlm"/> (shared, frozen, not owned).</summary>
    /// <param name="mlm">The base model's masked-LM head.</param>
    /// <param name="labelWordPieces">Per class (in class order), its label words, each as its vocabulary ids (at least one).</param>
    /// <exception cref="ArgumentException">A class has no word, a word has no piece, or an id is outside the vocabulary.</exception>
    public VerbalizerHead(MaskedLanguageModelHead mlm, IReadOnlyList<IReadOnlyList<int[]>> labelWordPieces) : base(nameof(VerbalizerHead))
    {
        ArgumentNullException.ThrowIfNull(mlm);
        ArgumentNullException.ThrowIfNull(labelWordPieces);
        if (labelWordPieces.Count < 1)
            throw new ArgumentException("A verbalizer needs at least one class.", nameof(labelWordPieces));
        _mlm = mlm;
        NumLabels = labelWordPieces.Count;
        var distinct = labelWordPieces.SelectMany(words => words).SelectMany(pieces => pieces).Distinct().Order().ToArray();
        if (distinct.Any(id => id < 0 || id >= mlm.VocabularySize))
            throw new ArgumentException($"A label word's id is outside the vocabulary of {mlm.VocabularySize}.", nameof(labelWordPieces));
        var column = distinct.Select((id, k) => (id, k)).ToDictionary(p => p.id, p => p.k);
        var weights = new float[NumLabels * distinct.Length];
        for (int c = 0; c < NumLabels; c++)
        {
            var words = labelWordPieces[c];
            if (words.Count == 0 || words.Any(w => w.Length == 0))
                throw new ArgumentException($"Class {c} of the verbalizer has no label word, or a word without a token.", nameof(labelWordPieces));
            foreach (int[] word in words)
            {
                foreach (int id in word)
                    weights[c * distinct.Length + column[id]] += 1f / (word.Length * words.Count);
            }
        }
        _pieces = torch.tensor(distinct.Select(id => (long)id).ToArray());
        _combination = torch.tensor(weights, [NumLabels, distinct.Length]);
        register_buffer("pieces", _pieces, persistent: false);
        register_buffer("combination", _combination, persistent: false);
    }

    /// <inheritdoc/>
    public override int NumLabels { get; }

    /// <inheritdoc/>
    protected override string HuggingFacePrefix => "";

    /// <summary>The hidden state at the mask <c>[B, H]</c> → class logits <c>[B, C]</c> (fp32).</summary>
    public override Tensor forward(Tensor maskHidden)
    {
        using var scope = torch.NewDisposeScope();
        Tensor pieceLogits = _mlm.Logits(maskHidden, _pieces.to(maskHidden.device));
        return torch.matmul(pieceLogits, _combination.to(pieceLogits.device).t()).MoveToOuterDisposeScope();
    }

    // The masked-LM head is the base's, shared and frozen: nothing of it belongs to this head.
    /// <inheritdoc/>
    protected override void RegisterComponents()
    {
    }
}
