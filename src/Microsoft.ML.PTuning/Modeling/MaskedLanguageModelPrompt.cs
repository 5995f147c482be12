namespace Microsoft.ML.PTuning.Modeling;

/// <summary>
/// What a <see cref="PrefixTunedModel"/> of <see cref="TuningMethod.HandcraftedPrompt"/> or <see cref="TuningMethod.PTuningV1"/>
/// reads its classes with: the base's masked-LM head, the mask token it predicts at, each class's label words as token
/// ids, and (P-Tuning v1) the prompt vectors the template's <c>{prompt:N}</c> slots hold.
/// </summary>
/// <param name="Head">The base model's masked-LM head (shared, frozen).</param>
/// <param name="MaskTokenId">The tokenizer's mask id; every input holds it exactly once (the template's <c>{mask}</c>).</param>
/// <param name="LabelWordPieces">Per class, in class order: its label words, each as its token ids (<see cref="VerbalizerHead"/>).</param>
/// <param name="PromptLength">Q, the prompt vectors of the template (0 for the handcrafted prompt).</param>
/// <param name="PromptEncoderLstm">P-Tuning v1 training: true for the BiLSTM + MLP prompt encoder, false for the MLP alone;
/// null for the plain, folded table a loaded model holds.</param>
public sealed record MaskedLanguageModelPrompt(
    MaskedLanguageModelHead Head, int MaskTokenId, IReadOnlyList<IReadOnlyList<int[]>> LabelWordPieces, int PromptLength, bool? PromptEncoderLstm);
