namespace Microsoft.ML.PTuning;

/// <summary>
/// Options for prefix-tuned text classification of single sentences or sentence pairs. Input: a key-typed label
/// column and one or two text columns. Output: <see cref="PrefixTuningOptions.PredictionColumnName"/> (key, the
/// label's key values) and <see cref="ScoreColumnName"/> (vector of class probabilities).
/// </summary>
public sealed class PrefixTuningTextClassificationOptions : PrefixTuningOptions
{
    internal const int DefaultPrefixLength = 16, DefaultMaxEpochs = 10;

    /// <summary>
    /// Text classification's defaults: <see cref="PrefixTuningOptions.PrefixLength"/> 16, prefix tuning's
    /// <see cref="PrefixTuningOptions.LearningRate"/> 3e-3, <see cref="PrefixTuningOptions.MaxEpochs"/> 10,
    /// <see cref="PrefixTuningOptions.EarlyStoppingPatience"/> 3. The linear probe's default rate is 1e-3, full
    /// fine-tuning's 3e-5.
    /// </summary>
    /// <remarks>
    /// From the converged quality profile on Banking77 (all-MiniLM-L6-v2, the whole training split, docs/BENCHMARKS.md,
    /// "Defaults"): prefix tuning at P = 16 reached 0.934 validation / 0.9308 test accuracy at 3e-3 against 0.925 / 0.920
    /// at 1e-2, 0.921 / 0.915 at 3e-2 and 0.926 / 0.928 at 9e-4, its best epoch the 11th of a 30-epoch schedule. With
    /// these defaults and no validation set (10 epochs, the last kept) it scored 0.9292 test accuracy. The linear probe
    /// over mean-pooled frozen features read 0.914, 0.926, 0.925 and 0.924 validation accuracy at 3.3e-4, 1e-3, 3e-3 and
    /// 1e-2. Full fine-tuning read 0.927, 0.928 and 0.908 at 3e-5, 1e-4 and 3e-4: 3e-5 is one validation example
    /// behind 1e-4 and scored higher on test (0.9269 against 0.9146), and it is token classification's best too.
    /// </remarks>
    public PrefixTuningTextClassificationOptions()
        : base(DefaultPrefixLength, DefaultMaxEpochs, earlyStoppingPatience: 3, prefixTuningLearningRate: 3e-3,
            linearProbeLearningRate: 1e-3, fullFineTuningLearningRate: 3e-5)
    {
    }

    /// <summary>The text column (first sentence of a pair).</summary>
    public string Sentence1ColumnName { get; set; } = "Sentence1";

    /// <summary>The second sentence of a pair, or null for single-sentence classification.</summary>
    public string? Sentence2ColumnName { get; set; }

    /// <summary>Name of the score column: one probability per class, summing to 1.</summary>
    public string ScoreColumnName { get; set; } = "Score";

    /// <summary>
    /// How the head reads the encoder's output (<see cref="PoolingMode"/>): the first token (<see cref="PoolingMode.Cls"/>,
    /// Hugging Face's heads), the mean over real tokens (<see cref="PoolingMode.Mean"/>, what sentence-transformers
    /// encoders are trained for), or <see cref="PoolingMode.Auto"/> (the default): <see cref="PoolingMode.Mean"/> for a
    /// sentence-transformers folder whose <c>1_Pooling/config.json</c> says mean pooling (the MiniLM ONNX import writes
    /// one), else <see cref="PoolingMode.Cls"/>. Every method with a classification head uses it (HandcraftedPrompt and PTuningV1 read the class at the mask
    /// instead, and ignore it); the zip stores the resolved value.
    /// </summary>
    public PoolingMode Pooling { get; set; } = PoolingMode.Auto;

    /// <summary>
    /// The cloze template of <see cref="TuningMethod.HandcraftedPrompt"/> and <see cref="TuningMethod.PTuningV1"/> (required
    /// there, ignored otherwise): text with the slots <c>{Sentence1}</c> (required), <c>{Sentence2}</c> (required for pairs),
    /// <c>{mask}</c> (exactly once: the class is read at the mask) and, for P-Tuning v1, <c>{prompt:N}</c> (N trainable
    /// vectors; <c>{prompt}</c> takes <see cref="PrefixTuningOptions.PrefixLength"/>, so sweeps can vary it). Example:
    /// <c>"{Sentence1} It was {mask}."</c>, or for pairs <c>"{Sentence1} ? {mask}, {Sentence2}"</c>.
    /// </summary>
    /// <remarks>
    /// The input is <c>[CLS] template [SEP]</c> (RoBERTa <c>&lt;s&gt; … &lt;/s&gt;</c>); <c>{mask}</c> becomes the tokenizer's
    /// own mask token (<c>[MASK]</c>, <c>&lt;mask&gt;</c>), and special tokens written in the text (<c>[SEP]</c>) their ids
    /// (BERT token type 1 after the template's first <c>[SEP]</c>). Truncation to <see cref="PrefixTuningOptions.MaxSequenceLength"/>
    /// cuts the sentences (longest first), never the template. A mask token inside a sentence is read as the unknown token.
    /// </remarks>
    public string? PromptTemplate { get; set; }

    /// <summary>
    /// The label words of <see cref="TuningMethod.HandcraftedPrompt"/> and <see cref="TuningMethod.PTuningV1"/> (required
    /// there, ignored otherwise): every key value of the label column → one or more words, e.g.
    /// <c>{ ["positive"] = ["great"], ["negative"] = ["terrible", "bad"] }</c>. A class's logit is the masked-LM's logit of
    /// its word at the mask; its score the softmax over the classes.
    /// </summary>
    /// <remarks>
    /// Each word is tokenized as a word after other text (RoBERTa: with a space before it, <c>Ġgreat</c>). A word of several
    /// pieces scores the <b>mean of its pieces' logits</b> at the mask, a class of several words the <b>mean of its words'
    /// scores</b>; single-piece words that the vocabulary holds whole are the ones a masked-LM predicts best.
    /// </remarks>
    public IReadOnlyDictionary<string, string[]>? Verbalizer { get; set; }

    /// <summary>
    /// P-Tuning v1's prompt encoder while training: a two-layer bidirectional LSTM followed by a two-layer MLP (true, the
    /// default, as in P-Tuning v1), or the MLP alone (false). Either is folded into plain vectors after training.
    /// </summary>
    public bool PromptEncoderLstm { get; set; } = true;

    internal override void Validate()
    {
        base.Validate();
        RequireName(Sentence1ColumnName, nameof(Sentence1ColumnName));
        if (Sentence2ColumnName != null)
            RequireName(Sentence2ColumnName, nameof(Sentence2ColumnName));
        RequireName(ScoreColumnName, nameof(ScoreColumnName));
        if (!Enum.IsDefined(Pooling))
            throw new ArgumentOutOfRangeException(nameof(Pooling), Pooling, $"Pooling must be one of {string.Join(", ", Enum.GetNames<PoolingMode>())}.");
        if (ScoreColumnName == PredictionColumnName)
            throw new ArgumentException($"ScoreColumnName and PredictionColumnName are both '{ScoreColumnName}'; they must differ.", nameof(ScoreColumnName));
        if (Method is not (TuningMethod.HandcraftedPrompt or TuningMethod.PTuningV1))
            return;
        if (string.IsNullOrWhiteSpace(PromptTemplate))
            throw new ArgumentException($"PromptTemplate is required for Method {Method}: text with {{Sentence1}} and {{mask}} slots, e.g. \"{{Sentence1}} It was {{mask}}.\"", nameof(PromptTemplate));
        if (!PromptTemplate.Contains("{mask}", StringComparison.Ordinal))
            throw new ArgumentException($"PromptTemplate \"{PromptTemplate}\" has no {{mask}} slot: Method {Method} reads the class at the mask.", nameof(PromptTemplate));
        if (Verbalizer is null || Verbalizer.Count == 0)
            throw new ArgumentException($"Verbalizer is required for Method {Method}: every label value → one or more label words.", nameof(Verbalizer));
        foreach (var (label, words) in Verbalizer)
        {
            if (words is null || words.Length == 0 || words.Any(string.IsNullOrWhiteSpace))
                throw new ArgumentException($"Verbalizer entry '{label}' must hold at least one label word, none empty.", nameof(Verbalizer));
        }
    }
}
