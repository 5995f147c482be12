using Microsoft.ML.SearchSpace;

namespace Microsoft.ML.PTuning;

/// <summary>
/// Options shared by prefix-tuned text and token classification. Defaults follow P-Tuning v2 (Liu et al., 2022) and
/// its run scripts where they apply to a frozen backbone; the tunable ones carry ML.NET search-space attributes,
/// which <see cref="PrefixTuningSweeper"/> reads as its default search space.
/// </summary>
public abstract class PrefixTuningOptions
{
    private readonly double _prefixTuningLearningRate, _linearProbeLearningRate, _fullFineTuningLearningRate;

    /// <summary>
    /// The defaults that differ between the tasks (each task's options class names them and the runs behind them):
    /// <see cref="PrefixLength"/>, <see cref="MaxEpochs"/>, <see cref="EarlyStoppingPatience"/> and the
    /// <see cref="LearningRate"/> of prefix tuning, the linear probe and full fine-tuning.
    /// </summary>
    private protected PrefixTuningOptions(int prefixLength, int maxEpochs, int earlyStoppingPatience, double prefixTuningLearningRate,
        double linearProbeLearningRate, double fullFineTuningLearningRate)
    {
        PrefixLength = prefixLength;
        MaxEpochs = maxEpochs;
        EarlyStoppingPatience = earlyStoppingPatience;
        _prefixTuningLearningRate = prefixTuningLearningRate;
        _linearProbeLearningRate = linearProbeLearningRate;
        _fullFineTuningLearningRate = fullFineTuningLearningRate;
    }

    /// <summary>
    /// A Hugging Face model folder: <c>config.json</c>, <c>model.safetensors</c> or <c>pytorch_model.bin</c>, and the
    /// tokenizer files (<c>vocab.txt</c> for BERT; <c>vocab.json</c> + <c>merges.txt</c> for RoBERTa). Required.
    /// </summary>
    public string? BaseModelPath { get; set; }

    /// <summary>Name of the label column (key type for text classification; vector of key for tokens).</summary>
    public string LabelColumnName { get; set; } = "Label";

    /// <summary>Name of the predicted-label column this transform adds.</summary>
    public string PredictionColumnName { get; set; } = "PredictedLabel";

    /// <summary>Which parameters are trained: <see cref="TuningMethod.PrefixTuning"/> (P-Tuning v2, the default) or a baseline.</summary>
    public TuningMethod Method { get; set; } = TuningMethod.PrefixTuning;

    /// <summary>
    /// Number of prefix (or prompt) vectors per layer. P-Tuning v2's scripts use 4 to 224 depending on the task;
    /// simple classification tasks prefer short prefixes, hard sequence labelling longer ones. Ignored by
    /// <see cref="TuningMethod.FullFineTuning"/> and <see cref="TuningMethod.LinearProbe"/>. The default is the task's
    /// (<see cref="PrefixTuningTextClassificationOptions"/>, <see cref="PrefixTuningTokenClassificationOptions"/>).
    /// </summary>
    [Choice(new object[] { 4, 8, 16, 32, 64, 128 }, 16)]
    public int PrefixLength { get; set; }

    /// <summary>
    /// Reparameterize the prefix through a two-layer MLP during training (P-Tuning v2's <c>prefix_projection</c>).
    /// The paper finds it helps on some tasks and hurts on others; off by default as in most of its scripts. After
    /// training the MLP is folded into a flat table, so inference cost is the same either way.
    /// </summary>
    [BooleanChoice(false)]
    public bool PrefixProjection { get; set; }

    /// <summary>
    /// Partial depth: put the prefix only into the top k layers of the encoder (1 to its layer count); null (the default)
    /// puts it into every layer, as P-Tuning v2 does. <see cref="TuningMethod.PrefixTuning"/> only; the other methods
    /// ignore it (a prompt enters at the input, so nothing beneath it is frozen for the input alone).
    /// </summary>
    /// <remarks>
    /// The layers beneath the prefix then depend on the input alone: training runs them without autograd and in eval
    /// mode (no dropout there), computes their output once per training example in the first epoch and keeps it in
    /// memory in bfloat16 (up to 1 GiB; beyond it, examples are recomputed every epoch), so later epochs cost only the
    /// top k layers. Inference runs the whole encoder as usual, with the prefix in the top k layers. The trained prefix
    /// is k/L of the full one's size; the saved model records k.
    /// </remarks>
    public int? PrefixDepth { get; set; }

    /// <summary>
    /// Draw each training batch from examples of similar length (Hugging Face's <c>group_by_length</c>), so batches pad
    /// little: shuffled windows of up to 50 batches, sorted by length within. Off by default (plain shuffled batches), as
    /// in Hugging Face: on Banking77's length mix it cut an epoch to 0.55× (padding from 2.42 to 1.06 computed tokens per
    /// real token), but in short seeded runs its accuracy moved by −1.1 to +1.1 points on Banking77 and −0.5 to −5.1
    /// entity-F1 points on WNUT-17 (docs/BENCHMARKS.md), so it is an opt-in trade of a little convergence for speed.
    /// Inference always runs length-sorted batches: that changes no result.
    /// </summary>
    public bool GroupByLength { get; set; }

    /// <summary>Hidden width of the prefix MLP when <see cref="PrefixProjection"/> is on (P-Tuning v2: 512).</summary>
    public int PrefixHiddenSize { get; set; } = 512;

    /// <summary>
    /// Peak learning rate of the reparameterized prefix (its embedding and MLP) when <see cref="PrefixProjection"/> is
    /// on; null uses 3e-4, or <see cref="LearningRate"/> if that is lower. The head always trains at <see cref="LearningRate"/>.
    /// </summary>
    /// <remarks>
    /// AdamW moves every weight by about the learning rate per step, whatever the gradient's size, and the MLP's output
    /// layer sums <see cref="PrefixHiddenSize"/> such moves into every key and value. At the flat table's rate (1e-2) the
    /// prefix keys/values on MiniLM ended with a standard deviation of 6.0 (a flat prefix: 1.0) and Banking77 accuracy
    /// stayed at chance. The benchmarks' projection study (docs/BENCHMARKS.md; 1,000
    /// Banking77 rows, 2 epochs, prefix 32, MLP width 512) collapsed to chance with the MLP at 1e-2 and 1e-3 and trained
    /// best at 3e-4, above the flat prefix, with the head at 1e-2 and at 3e-2.
    /// </remarks>
    public double? PrefixProjectionLearningRate { get; set; }

    /// <summary>
    /// Maximum number of tokens per example, special tokens included. It is further capped so that prefix plus
    /// tokens fit the backbone's position table. Longer text is truncated (pairs: longest first); for token
    /// classification, long sentences are covered by several windows so every word gets a prediction.
    /// </summary>
    public int MaxSequenceLength { get; set; } = 128;

    /// <summary>Examples per optimizer step (P-Tuning v2 uses 16 or 32).</summary>
    [Choice(new object[] { 8, 16, 32 }, 16)]
    public int BatchSize { get; set; } = 16;

    /// <summary>
    /// Passes over the training data; the learning rate decays linearly to 0 over them. P-Tuning v2 trains for up to 100
    /// epochs on small GLUE sets and 30 on NER. The default is the task's (<see cref="PrefixTuningTextClassificationOptions"/>,
    /// <see cref="PrefixTuningTokenClassificationOptions"/>).
    /// </summary>
    public int MaxEpochs { get; set; }

    /// <summary>
    /// Peak learning rate of AdamW. Null picks the method's usual value: for prefix tuning, the linear probe and full
    /// fine-tuning the task's (<see cref="PrefixTuningTextClassificationOptions"/>,
    /// <see cref="PrefixTuningTokenClassificationOptions"/>; P-Tuning v2 uses 5e-3 to 3e-2), 1e-2 for prompt tuning, 1e-3
    /// for P-Tuning v1's prompt encoder (the handcrafted prompt trains nothing). Must be in (0, 1]: AdamW
    /// moves every weight by about the rate per step whatever the gradient's size, so at 1 each step already changes
    /// every weight by about 1, far beyond any rate these methods train at.
    /// </summary>
    [Range(1e-4, 5e-2, 1e-2, true)]
    public double? LearningRate { get; set; }

    /// <summary>
    /// AdamW weight decay on weight matrices (not biases or LayerNorm); P-Tuning v2 uses 0. AdamW's decay is decoupled:
    /// each step multiplies every decayed weight by 1 − rate × WeightDecay, so that product must stay below 1 (at 1 every
    /// weight is zeroed each step, above 2 the weights grow without bound); <c>Fit</c> refuses larger values.
    /// </summary>
    public double WeightDecay { get; set; }

    /// <summary>Fraction of all steps spent warming the learning rate up linearly from 0; it then decays linearly to 0.</summary>
    public double WarmupRatio { get; set; }

    /// <summary>Global gradient-norm clipping threshold (Hugging Face Trainer's default 1.0); 0 turns clipping off.</summary>
    public double ClipNorm { get; set; } = 1.0;

    /// <summary>Dropout on hidden states and on the prefix key/values during training (P-Tuning v2: 0.1).</summary>
    public double HiddenDropout { get; set; } = 0.1;

    /// <summary>
    /// Optional validation data with the same columns. When set, the metric is computed after each epoch (accuracy for
    /// text classification, entity micro-F1 for BIO token labels), the best epoch's weights are kept, and training stops
    /// early after <see cref="EarlyStoppingPatience"/> epochs without improvement.
    /// </summary>
    public IDataView? ValidationSet { get; set; }

    /// <summary>
    /// Epochs without validation improvement before training stops; 0 never stops early. The default is the task's
    /// (<see cref="PrefixTuningTextClassificationOptions"/>, <see cref="PrefixTuningTokenClassificationOptions"/>).
    /// </summary>
    public int EarlyStoppingPatience { get; set; }

    /// <summary>Seed for initialization, shuffling and dropout. Null uses the MLContext's seed (or 0 where it has none).</summary>
    public int? Seed { get; set; }

    /// <summary>
    /// TorchSharp device: <c>"cpu"</c>, <c>"cuda"</c>, <c>"cuda:N"</c>; null (the default) follows the MLContext as ML.NET's
    /// TorchSharp trainers do: <c>GpuDeviceId = N</c> gives cuda:N, no GPU id the CPU, and a GPU id where CUDA is not
    /// available is an error unless <c>FallbackToCpu</c> is true. CUDA needs the app to reference a TorchSharp CUDA
    /// package instead of TorchSharp-cpu.
    /// </summary>
    public string? Device { get; set; }

    /// <summary>
    /// The number format the frozen backbone is held and run in (<see cref="ComputePrecision"/>): fp32 by default;
    /// <see cref="ComputePrecision.BFloat16"/>, or <see cref="ComputePrecision.Auto"/> = bf16 where the device computes it
    /// fast (CUDA compute capability 8.0 or more; a CPU with AVX512-BF16 or AMX-BF16), else fp32. In bf16, trained
    /// parameters keep fp32 master copies, softmax, LayerNorm statistics and the loss accumulate in fp32, and the saved
    /// zip still holds fp32 tensors; the zip records this setting, so a loaded model runs in it again (Auto decided anew
    /// on the loading machine).
    /// </summary>
    /// <remarks>
    /// Why Float32 is the default, measured in one run (docs/BENCHMARKS.md, "Issue 14: one run of the suite"; a 2-core
    /// Xeon with AMX-BF16): bf16 is faster — a prefix-tuning step 1.70×, full fine-tuning 1.51×, encoder inference at
    /// 32 × 128 2.84× — and lost 0.3 points of accuracy on Banking77 and of entity F1 on WNUT-17 in a short budget. But
    /// its scores are not fp32's: a row predicted alone and the same row in a padded batch differ by more than 1e-5 in a
    /// class probability, and with <see cref="ComputePrecision.Auto"/> as the default a model's scores would depend on the
    /// machine it runs on. So bf16 is the choice to make knowingly: set <see cref="ComputePrecision.Auto"/> for the
    /// speed where the hardware has it.
    /// </remarks>
    public ComputePrecision Precision { get; set; } = ComputePrecision.Float32;

    /// <summary>
    /// Store the base model inside the saved model zip, making it self-contained (tens to hundreds of MB). By default
    /// the zip holds only what was trained plus the base folder's path and the SHA-256 of its weights.
    /// </summary>
    public bool EmbedBaseModel { get; set; }

    /// <summary>
    /// Receives progress: each step of loading the base model, then training after every logging interval and at the end
    /// of each epoch (<see cref="PrefixTuningProgress.Stage"/> says which), with an estimate of the time left.
    /// </summary>
    public IProgress<PrefixTuningProgress>? Progress { get; set; }

    /// <summary>
    /// Stops training at the next step; <c>Fit</c> then throws <see cref="OperationCanceledException"/>. Cancelling the
    /// MLContext's execution (what AutoML does to end a trial) stops it the same way.
    /// </summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>
    /// A folder where <c>Fit</c> saves its whole training state (trainable weights, AdamW's moments, the schedule position,
    /// the epoch and step, the history, the best epoch's weights, the random generator) at the end of each epoch and every
    /// <see cref="CheckpointInterval"/> within one, atomically (a crash leaves the previous checkpoint or the new one). A
    /// <c>Fit</c> that finds a checkpoint of the same run there (same data, options and base model: a fingerprint decides)
    /// resumes from it — on CPU the result is bit-identical to a run never interrupted — and one of another run is not
    /// used (it is logged and overwritten). A damaged checkpoint makes <c>Fit</c> fail naming the file. The checkpoint
    /// stays after training; a later <c>Fit</c> of the same run then returns its result without training. Null (the
    /// default) saves nothing. One folder serves one run at a time.
    /// </summary>
    public string? CheckpointFolder { get; set; }

    /// <summary>
    /// The time between checkpoints within an epoch when <see cref="CheckpointFolder"/> is set (each epoch's end always
    /// saves one); 10 minutes by default, so at most that much work is lost to a crash.
    /// </summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The learning rate used: <see cref="LearningRate"/> or the method's default.</summary>
    internal double EffectiveLearningRate => LearningRate ?? Method switch
    {
        TuningMethod.FullFineTuning => _fullFineTuningLearningRate,
        TuningMethod.LinearProbe => _linearProbeLearningRate,
        TuningMethod.PTuningV1 => 1e-3,
        TuningMethod.PrefixTuning => _prefixTuningLearningRate,
        _ => 1e-2,
    };

    /// <summary>The reparameterized prefix's learning rate: <see cref="PrefixProjectionLearningRate"/>, or 3e-4 (the head's if lower).</summary>
    internal double EffectiveProjectionLearningRate => PrefixProjectionLearningRate ?? Math.Min(EffectiveLearningRate, DefaultProjectionLearningRate);

    /// <summary>The prefix MLP's default peak rate, measured (see <see cref="PrefixProjectionLearningRate"/>).</summary>
    internal const double DefaultProjectionLearningRate = 3e-4;

    /// <summary>Checks values that do not depend on data; throws naming the option.</summary>
    internal virtual void Validate()
    {
        if (string.IsNullOrWhiteSpace(BaseModelPath))
            throw new ArgumentException("BaseModelPath is required: a Hugging Face model folder (config.json, weights, tokenizer files).", nameof(BaseModelPath));
        if (!Directory.Exists(BaseModelPath))
            throw new DirectoryNotFoundException($"BaseModelPath '{BaseModelPath}' does not exist or is not a folder.");
        RequireName(LabelColumnName, nameof(LabelColumnName));
        RequireName(PredictionColumnName, nameof(PredictionColumnName));
        if (!Enum.IsDefined(Method))
            throw new ArgumentOutOfRangeException(nameof(Method), Method, "Method must be one of PrefixTuning, PromptTuning, FullFineTuning, LinearProbe, HandcraftedPrompt, PTuningV1.");
        bool usesPrefix = Method is TuningMethod.PrefixTuning or TuningMethod.PromptTuning;
        if (usesPrefix && PrefixLength < 1)
            throw new ArgumentOutOfRangeException(nameof(PrefixLength), PrefixLength, "PrefixLength must be at least 1 for prefix and prompt tuning.");
        if (PrefixProjectionLearningRate is double projectionRate)
            CheckRate(projectionRate, nameof(PrefixProjectionLearningRate), " (or null for 3e-4)");
        if (PrefixDepth is int depth && depth < 1)
            throw new ArgumentOutOfRangeException(nameof(PrefixDepth), depth, "PrefixDepth must be at least 1 (the number of top layers the prefix goes into), or null for every layer.");
        if (PrefixHiddenSize < 1)
            throw new ArgumentOutOfRangeException(nameof(PrefixHiddenSize), PrefixHiddenSize, "PrefixHiddenSize must be positive.");
        if (MaxSequenceLength < 4)
            throw new ArgumentOutOfRangeException(nameof(MaxSequenceLength), MaxSequenceLength, "MaxSequenceLength must be at least 4 tokens.");
        if (BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "BatchSize must be positive.");
        if (MaxEpochs < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxEpochs), MaxEpochs, "MaxEpochs must be positive.");
        CheckRate(EffectiveLearningRate, nameof(LearningRate), " (or null for the method's default)");
        if (!(WeightDecay >= 0) || double.IsInfinity(WeightDecay))
            throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "WeightDecay must be a finite number, 0 or more.");
        double fastest = PrefixProjection ? Math.Max(EffectiveLearningRate, EffectiveProjectionLearningRate) : EffectiveLearningRate;
        if (fastest * WeightDecay >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay,
                $"WeightDecay {WeightDecay:G3} at learning rate {fastest:G3} would multiply every weight matrix by 1 − {fastest * WeightDecay:G3} each step " +
                "(AdamW's decoupled decay): learning rate × WeightDecay must stay below 1, and useful values are far smaller (0 to 0.1).");
        }
        if (!(WarmupRatio >= 0 && WarmupRatio < 1))
            throw new ArgumentOutOfRangeException(nameof(WarmupRatio), WarmupRatio, "WarmupRatio must be in [0, 1).");
        if (ClipNorm < 0 || double.IsNaN(ClipNorm))
            throw new ArgumentOutOfRangeException(nameof(ClipNorm), ClipNorm, "ClipNorm must be 0 (off) or positive.");
        if (!(HiddenDropout >= 0 && HiddenDropout < 1))
            throw new ArgumentOutOfRangeException(nameof(HiddenDropout), HiddenDropout, "HiddenDropout must be in [0, 1).");
        if (!Enum.IsDefined(Precision))
            throw new ArgumentOutOfRangeException(nameof(Precision), Precision, "Precision must be Float32, BFloat16 or Auto.");
        if (EarlyStoppingPatience < 0)
            throw new ArgumentOutOfRangeException(nameof(EarlyStoppingPatience), EarlyStoppingPatience, "EarlyStoppingPatience must be 0 (off) or positive.");
        if (CheckpointFolder != null && (string.IsNullOrWhiteSpace(CheckpointFolder) || CheckpointFolder.IndexOfAny(Path.GetInvalidPathChars()) >= 0))
            throw new ArgumentException($"CheckpointFolder '{CheckpointFolder}' is not a usable folder path (or leave it null to save no checkpoints).", nameof(CheckpointFolder));
        if (CheckpointInterval <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(CheckpointInterval), CheckpointInterval, "CheckpointInterval must be positive.");
    }

    /// <summary>
    /// A learning rate must be finite and in (0, 1]: AdamW's step moves each weight by about the rate whatever the gradient,
    /// so 1 already changes every weight by about 1 per step, beyond any rate these methods use (P-Tuning v2: 5e-3 to
    /// 3e-2, full fine-tuning about 3e-5); larger values only overflow.
    /// </summary>
    private static void CheckRate(double rate, string optionName, string orNull)
    {
        if (!(rate > 0 && rate <= 1))
            throw new ArgumentOutOfRangeException(optionName, rate, $"{optionName} must be a finite number in (0, 1]{orNull}; these methods train at 1e-5 to 5e-2.");
    }

    /// <summary>Checks <see cref="PrefixDepth"/> against the base model's layer count; throws naming the option.</summary>
    internal void ValidatePrefixDepth(int layers)
    {
        if (PrefixDepth is int depth && Method == TuningMethod.PrefixTuning && (depth < 1 || depth > layers))
        {
            throw new ArgumentOutOfRangeException(nameof(PrefixDepth), depth,
                $"PrefixDepth must be 1 to {layers} (the base model's num_hidden_layers), or null for every layer.");
        }
    }

    private protected static void RequireName(string? value, string optionName)
    {
        if (string.IsNullOrWhiteSpace(value))
            throw new ArgumentException($"{optionName} must name a column.", optionName);
    }

    /// <summary>A copy whose properties can be changed without touching this instance (used by sweeps).</summary>
    internal PrefixTuningOptions Clone() => (PrefixTuningOptions)MemberwiseClone();
}
