namespace Microsoft.ML.PTuning.Modeling;

/// <summary>
/// How the adapter is built for training, beyond its <see cref="TaskSpec"/>: the prefix's reparameterization and the
/// dropout. None of it survives training — the prefix is folded flat and inference runs without dropout — so a loaded
/// task has no such settings. <paramref name="PromptEncoderLstm"/>: P-Tuning v1's prompt encoder, BiLSTM + MLP (true) or
/// MLP alone (false), folded likewise.
/// </summary>
internal sealed record AdapterTraining(bool PrefixProjection, int PrefixHiddenSize, double Dropout, bool PromptEncoderLstm = true);
