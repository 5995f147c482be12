using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

/// <summary>
/// A task model: a backbone encoder, the adapter the <see cref="TuningMethod"/> trains (deep prefix, input prompt or
/// none) and a task head with Hugging Face names.
/// </summary>
/// <remarks>
/// <para>
/// The backbone is <b>shared, not owned</b>: several models (a sweep's trials) may use one loaded, frozen encoder. It
/// is therefore not a registered submodule — <c>state_dict()</c>, <c>parameters()</c> and <c>Dispose()</c> cover only the
/// adapter and head — but <c>train()</c>/<c>eval()</c> and <c>to(device)</c> are forwarded to it, so moving a model
/// moves the shared backbone in place (every trial then runs on that device). Disposing the model leaves the backbone
/// alive. For <see cref="TuningMethod.FullFineTuning"/> pass a separate copy (<see cref="TransformerEncoder.Clone"/>),
/// since its parameters are trained; constructing a model sets the backbone's <c>requires_grad</c> for its method.
/// </para>
/// <para>
/// Dropout on the prefix and in the head is P-Tuning v2's: the encoder's hidden_dropout_prob unless given (the head
/// prefers the config's classifier_dropout, as HF does).
/// </para>
/// </remarks>
public sealed class PrefixTunedModel : nn.Module<Tensor, Tensor, Tensor?, Tensor>
{
    /// <summary>The adapter-state key of the prefix or prompt table (PEFT's name).</summary>
    public const string PromptEmbeddingsKey = "prompt_embeddings";

    private PrefixEncoder? _prefixEncoder;
    private PromptEncoder? _promptEncoder;
    private PTuningPromptEncoder? _promptReparameterization;
    private readonly int _maskTokenId = -1;
    private readonly TaskHead _head;
    private readonly TransformerEncoder _backbone;

    /// <summary>Builds the adapter and head for <paramref name="backbone"/> and freezes what the method does not train.</summary>
    /// <param name="backbone">The encoder; shared (not copied, not disposed).</param>
    /// <param name="task">Sequence or token classification.</param>
    /// <param name="numLabels">Number of labels C (≥ 1).</param>
    /// <param name="method">What to train.</param>
    /// <param name="prefixLength">Prefix (PrefixTuning) or prompt (PromptTuning) length P ≥ 1; ignored otherwise.</param>
    /// <param name="prefixProjection">PrefixTuning: reparameterize the prefix through an MLP while training.</param>
    /// <param name="prefixHiddenSize">Hidden width of that MLP.</param>
    /// <param name="dropout">Dropout of prefix and head; null for the config's (see remarks).</param>
    /// <param name="prefixDepth">PrefixTuning: the prefix goes only into the top k layers (1 to the encoder's layer
    /// count); null puts it in every layer. Ignored by the other methods.</param>
    /// <param name="pooling">Sequence classification: <see cref="PoolingMode.Cls"/> (Hugging Face's head for the model type)
    /// or <see cref="PoolingMode.Mean"/> (<see cref="MeanPoolingClassificationHead"/>). Ignored for token classification.</param>
    /// <param name="maskedLanguageModel">HandcraftedPrompt and PTuningV1 (required there, ignored otherwise): the masked-LM
    /// head, mask token, label words and prompt vectors the class is read with.</param>
    public PrefixTunedModel(
        TransformerEncoder backbone,
        TaskKind task,
        int numLabels,
        TuningMethod method = TuningMethod.PrefixTuning,
        int prefixLength = 16,
        bool prefixProjection = false,
        int prefixHiddenSize = 512,
        double? dropout = null,
        int? prefixDepth = null,
        PoolingMode pooling = PoolingMode.Cls,
        MaskedLanguageModelPrompt? maskedLanguageModel = null)
        : base(nameof(PrefixTunedModel))
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentOutOfRangeException.ThrowIfLessThan(numLabels, 1);
        if (!Enum.IsDefined(method))
            throw new ArgumentOutOfRangeException(nameof(method), method, "Unknown tuning method.");
        if (!Enum.IsDefined(task))
            throw new ArgumentOutOfRangeException(nameof(task), task, "Unknown task kind.");
        if (task == TaskKind.SequenceClassification && pooling is not (PoolingMode.Cls or PoolingMode.Mean))
            throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "The pooling must be resolved to Cls or Mean before a model is built.");
        bool usesPrefix = method is TuningMethod.PrefixTuning or TuningMethod.PromptTuning;
        bool maskedLm = method is TuningMethod.HandcraftedPrompt or TuningMethod.PTuningV1;
        if (maskedLm && maskedLanguageModel is null)
            throw new ArgumentNullException(nameof(maskedLanguageModel), $"{method} reads its classes with a masked-LM head and a verbalizer; none was given.");
        if (maskedLm && task != TaskKind.SequenceClassification)
            throw new ArgumentException($"{method} classifies text (sequence classification), not tokens.", nameof(task));
        if (maskedLm && maskedLanguageModel!.LabelWordPieces.Count != numLabels)
            throw new ArgumentException($"The verbalizer has label words for {maskedLanguageModel.LabelWordPieces.Count} classes; the model has {numLabels}.", nameof(maskedLanguageModel));
        if (method == TuningMethod.PTuningV1 && maskedLanguageModel!.PromptLength < 1)
            throw new ArgumentException("PTuningV1 needs at least one prompt vector ({prompt:N} in the template).", nameof(maskedLanguageModel));
        if (usesPrefix && prefixLength < 1)
            throw new ArgumentOutOfRangeException(nameof(prefixLength), prefixLength, $"{method} needs a prefix length of at least 1.");

        EncoderConfig config = backbone.Config;
        if (usesPrefix && prefixLength > config.MaxSequenceLength() - 1)
        {
            throw new ArgumentOutOfRangeException(nameof(prefixLength), prefixLength,
                $"A prefix of {prefixLength} leaves no room for tokens in max_position_embeddings {config.MaxPositionEmbeddings}.");
        }

        if (method == TuningMethod.PrefixTuning && prefixDepth is int depth && (depth < 1 || depth > config.NumHiddenLayers))
        {
            throw new ArgumentOutOfRangeException(nameof(prefixDepth), prefixDepth,
                $"The prefix depth must be 1 to {config.NumHiddenLayers} (the encoder's num_hidden_layers), or null for every layer.");
        }

        double adapterDropout = dropout ?? config.HiddenDropoutProb;
        double headDropout = dropout ?? config.ClassifierDropout ?? config.HiddenDropoutProb;

        _backbone = backbone;
        Task = task;
        Method = method;
        PrefixLength = usesPrefix ? prefixLength : method == TuningMethod.PTuningV1 ? maskedLanguageModel!.PromptLength : 0;
        LayersBelowPrefix = method switch
        {
            TuningMethod.PrefixTuning => config.NumHiddenLayers - (prefixDepth ?? config.NumHiddenLayers),
            TuningMethod.LinearProbe => config.NumHiddenLayers,   // the whole encoder is frozen features
            _ => 0,
        };

        if (method == TuningMethod.PrefixTuning)
            _prefixEncoder = new PrefixEncoder(config, prefixLength, prefixProjection, prefixHiddenSize, adapterDropout, prefixDepth);
        else if (method == TuningMethod.PromptTuning)
            _promptEncoder = PromptEncoder.FromVocabulary(backbone.WordEmbeddingWeight, prefixLength);
        else if (method == TuningMethod.PTuningV1 && maskedLanguageModel!.PromptEncoderLstm is bool lstm)
            _promptReparameterization = new PTuningPromptEncoder(PrefixLength, config.HiddenSize, lstm);
        else if (method == TuningMethod.PTuningV1)
            _promptEncoder = new PromptEncoder(PrefixLength, config.HiddenSize);
        if (maskedLm)
            _maskTokenId = maskedLanguageModel!.MaskTokenId;

        _head = maskedLm
            ? new VerbalizerHead(maskedLanguageModel!.Head, maskedLanguageModel.LabelWordPieces)
            : task == TaskKind.TokenClassification
            ? new TokenClassificationHead(config.HiddenSize, numLabels, headDropout)
            : pooling == PoolingMode.Mean
                ? new MeanPoolingClassificationHead(config.HiddenSize, numLabels, headDropout)
            : config.IsRoberta
                ? new RobertaClassificationHead(config.HiddenSize, numLabels, headDropout)
                : new BertSequenceClassificationHead(backbone, numLabels, headDropout);

        if (_prefixEncoder is not null)
            register_module("prefix_encoder", _prefixEncoder);
        if (_promptEncoder is not null)
            register_module("prompt_encoder", _promptEncoder);
        if (_promptReparameterization is not null)
            register_module("prompt_encoder", _promptReparameterization);
        register_module("head", _head);

        // Adapter and head follow the backbone's device.
        Device device = backbone.WordEmbeddingWeight.device;
        if (device.type != DeviceType.CPU)
            base._to(device.type, device.index, false);

        bool trainBackbone = method == TuningMethod.FullFineTuning;
        foreach (Parameter p in backbone.parameters())
            p.requires_grad = trainBackbone;
    }

    /// <summary>The encoder (shared; see remarks).</summary>
    public TransformerEncoder Backbone => _backbone;

    /// <summary>Sequence or token classification.</summary>
    public TaskKind Task { get; }

    /// <summary>What is trained.</summary>
    public TuningMethod Method { get; }

    /// <summary>Prefix or prompt length P (P-Tuning v1: the template's prompt vectors Q); 0 for full fine-tuning, linear probe and the handcrafted prompt.</summary>
    public int PrefixLength { get; }

    /// <summary>
    /// Encoder layers beneath the prefix: those a partial-depth prefix does not reach (PrefixTuning with a depth below
    /// the layer count), or all of them for LinearProbe, whose head reads frozen features; 0 otherwise. They depend on
    /// the input alone, so they run without autograd and in eval mode — no dropout in them, in training too
    /// (<see cref="ForwardBelowPrefix"/>) — and a trainer may cache their output per example.
    /// </summary>
    public int LayersBelowPrefix { get; }

    /// <summary>Number of labels C.</summary>
    public int NumLabels => _head.NumLabels;

    /// <summary>The deep prefix (PrefixTuning), else null.</summary>
    public PrefixEncoder? Prefix => _prefixEncoder;

    /// <summary>The input prompt (PromptTuning), or P-Tuning v1's prompt vectors once folded (or loaded), else null.</summary>
    public PromptEncoder? Prompt => _promptEncoder;

    /// <summary>The task head.</summary>
    public TaskHead Head => _head;

    /// <summary>
    /// Logits: <c>[B, C]</c> for sequence classification, <c>[B, T, C]</c> for token classification (prompt positions
    /// removed, so logits line up with <paramref name="inputIds"/>).
    /// </summary>
    public override Tensor forward(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds)
    {
        if (_maskTokenId >= 0)
            return ForwardAtMask(inputIds, attentionMask, tokenTypeIds);
        if (LayersBelowPrefix > 0)
            return ForwardAbovePrefix(ForwardBelowPrefix(inputIds, attentionMask, tokenTypeIds), attentionMask);
        using var scope = torch.NewDisposeScope();
        long batch = inputIds.shape[0];
        PastKeyValues? prefix = _prefixEncoder?.forward(batch);
        Tensor? prompt = _promptEncoder?.forward(batch);
        Tensor hidden = _backbone.forward(inputIds, attentionMask, tokenTypeIds, prefix, prompt);
        if (prompt is not null)
            hidden = hidden.narrow(1, PrefixLength, inputIds.shape[1]);   // the head reads the real tokens; [CLS] is at P
        return _head.Classify(hidden, attentionMask).MoveToOuterDisposeScope();
    }

    // HandcraftedPrompt and PTuningV1: the encoder (P-Tuning v1's vectors at the prompt slots), the hidden state at each
    // row's one mask token, the verbalizer's class logits [B, C].
    private Tensor ForwardAtMask(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds)
    {
        using var scope = torch.NewDisposeScope();
        Tensor? vectors = _promptReparameterization?.Vectors() ?? (Method == TuningMethod.PTuningV1 ? _promptEncoder!.Table : null);
        Tensor hidden = vectors is null
            ? _backbone.forward(inputIds, attentionMask, tokenTypeIds, null, null)
            : _backbone.ForwardWithInsertedPrompt(inputIds, attentionMask, tokenTypeIds, vectors);
        Tensor position = ScalarOperand.With(_maskTokenId, id => inputIds.eq(id)).to_type(ScalarType.Int64).argmax(1);
        Tensor atMask = hidden.gather(1, position.view(-1, 1, 1).expand(-1, 1, hidden.shape[2])).squeeze(1);
        return _head.forward(atMask).MoveToOuterDisposeScope();
    }

    private const string NoLayersBelow =
        "This model has no frozen encoder layers to run apart: only PrefixTuning with a partial PrefixDepth and LinearProbe have.";

    /// <summary>
    /// The hidden state <c>[B, T, H]</c> after the <see cref="LayersBelowPrefix"/> layers the prefix does not reach:
    /// computed without autograd and with the backbone in eval mode (its mode is restored), so it is a function of the
    /// input alone — the same in every epoch, hence cacheable.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model has no layers below its prefix.</exception>
    public Tensor ForwardBelowPrefix(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds)
    {
        if (LayersBelowPrefix == 0)
            throw new InvalidOperationException(NoLayersBelow);
        bool training = _backbone.training;
        using var noGrad = torch.no_grad();
        try
        {
            if (training)
                _backbone.eval();
            return _backbone.ForwardBelow(inputIds, attentionMask, tokenTypeIds, PrefixLength, LayersBelowPrefix);
        }
        finally
        {
            if (training)
                _backbone.train();
        }
    }

    /// <summary>
    /// Logits from what <see cref="ForwardBelowPrefix"/> returned (rows may be padded with anything: padding is masked):
    /// the layers with the prefix, then the head (for LinearProbe the head alone). Gradients reach the prefix and the head.
    /// </summary>
    public Tensor ForwardAbovePrefix(Tensor hiddenBelow, Tensor attentionMask)
    {
        if (LayersBelowPrefix == 0)
            throw new InvalidOperationException(NoLayersBelow);
        if (_prefixEncoder is null)
            return _head.Classify(hiddenBelow, attentionMask);   // LinearProbe: the encoder's last hidden state
        using var scope = torch.NewDisposeScope();
        PastKeyValues prefix = _prefixEncoder.forward(hiddenBelow.shape[0]);
        Tensor hidden = _backbone.ForwardAbove(hiddenBelow, attentionMask, prefix);
        return _head.Classify(hidden, attentionMask).MoveToOuterDisposeScope();
    }

    /// <summary>Exactly the parameters the method trains (pass these to the optimizer).</summary>
    public IReadOnlyList<Parameter> TrainableParameters()
    {
        var list = new List<Parameter>();
        if (Method == TuningMethod.FullFineTuning)
            list.AddRange(_backbone.parameters());
        list.AddRange(parameters());
        return list;
    }

    /// <summary>
    /// Replaces a reparameterized prefix with the flat table its MLP computes (<see cref="PrefixEncoder.Fold"/>): same
    /// output, no MLP at inference; P-Tuning v1's prompt encoder likewise becomes the plain <c>[Q, H]</c> table it computes
    /// (<see cref="PTuningPromptEncoder.Fold"/>). Parameters change, so build any optimizer afterwards. No-op otherwise.
    /// </summary>
    public void FoldPrefix()
    {
        if (_promptReparameterization is { } reparameterized)
        {
            PromptEncoder table = reparameterized.Fold();
            register_module("prompt_encoder", null!);
            register_module("prompt_encoder", table);
            _promptEncoder = table;
            _promptReparameterization = null;
            reparameterized.Dispose();
        }
        if (_prefixEncoder is not { IsReparameterized: true } mlp)
            return;
        PrefixEncoder folded = mlp.Fold();
        register_module("prefix_encoder", null!);   // a null module unregisters the name
        register_module("prefix_encoder", folded);
        _prefixEncoder = folded;
        mlp.Dispose();
    }

    /// <summary>
    /// What was trained, as detached fp32 CPU copies with Hugging Face / PEFT names: <c>prompt_embeddings</c> (the prefix
    /// folded to <c>[P, 2·L·H]</c>, or the prompt <c>[P, H]</c>), the head (<c>classifier.*</c>) and, for full
    /// fine-tuning, the encoder (<c>roberta.*</c> / <c>bert.*</c>).
    /// </summary>
    public Dictionary<string, Tensor> AdapterStateDict()
    {
        using var _ = torch.no_grad();
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in TrainedTensors())
        {
            // fp32 whatever the compute precision (a bf16 backbone under full fine-tuning saves fp32 tensors).
            Tensor copy = tensor.detach().clone().cpu();
            state.Add(name, copy.dtype == ScalarType.Float32 ? copy : copy.to_type(ScalarType.Float32, disposeAfter: true));
        }
        return state;
    }

    /// <summary>
    /// Loads what <see cref="AdapterStateDict"/> wrote. A reparameterized prefix is folded first (the saved prefix is
    /// the flat table).
    /// </summary>
    /// <exception cref="ArgumentException">Tensors are missing, unexpected, or of the wrong shape (all named).</exception>
    public void LoadAdapterStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        FoldPrefix();
        var expected = TrainedTensors().ToList();
        var expectedNames = expected.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        var missing = expected.Where(e => !state.ContainsKey(e.Name)).Select(e => e.Name).ToList();
        var unexpected = state.Keys.Where(k => !expectedNames.Contains(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
        {
            throw new ArgumentException(
                $"The adapter state does not fit this {Method} model." +
                (missing.Count > 0 ? $" Missing {missing.Count}: {string.Join(", ", missing)}." : "") +
                (unexpected.Count > 0 ? $" Unexpected {unexpected.Count}: {string.Join(", ", unexpected)}." : ""),
                nameof(state));
        }

        foreach (var (name, target) in expected)
        {
            Tensor source = state[name];
            if (!source.shape.SequenceEqual(target.shape))
            {
                throw new ArgumentException(
                    $"Adapter tensor '{name}' has shape [{string.Join(", ", source.shape)}]; this model needs [{string.Join(", ", target.shape)}].",
                    nameof(state));
            }
        }
        foreach (var (name, target) in expected)
        {
            if (name == PromptEmbeddingsKey && _prefixEncoder is not null)
            {
                _prefixEncoder.LoadTable(state[name], name);
            }
            else
            {
                using (torch.no_grad())
                    target.copy_(state[name]);
            }
        }
    }

    /// <inheritdoc/>
    public override void train(bool train = true)
    {
        base.train(train);
        _backbone.train(train);
    }

    /// <inheritdoc/>
    protected override nn.Module _to(Device device, ScalarType dtype, bool non_blocking)
    {
        _backbone.to(device, dtype, non_blocking);
        return base._to(device, dtype, non_blocking);
    }

    /// <inheritdoc/>
    protected override nn.Module _to(DeviceType deviceType, int deviceIndex, bool non_blocking)
    {
        _backbone.to(deviceType, deviceIndex, non_blocking);
        return base._to(deviceType, deviceIndex, non_blocking);
    }

    /// <inheritdoc/>
    protected override nn.Module _to(ScalarType dtype, bool non_blocking)
    {
        _backbone.to(dtype, non_blocking);
        return base._to(dtype, non_blocking);
    }

    // The backbone is shared: only the adapter and head, registered in the constructor, belong to this module.
    /// <inheritdoc/>
    protected override void RegisterComponents()
    {
    }

    // Live tensors (not copies) of what was trained, under their adapter-state names; the prefix as its flat table.
    private IEnumerable<(string Name, Tensor Tensor)> TrainedTensors()
    {
        if (_prefixEncoder is not null)
            yield return (PromptEmbeddingsKey, _prefixEncoder.Table());
        if (_promptEncoder is not null)
            yield return (PromptEmbeddingsKey, _promptEncoder.Table);
        if (_promptReparameterization is not null)
            yield return (PromptEmbeddingsKey, _promptReparameterization.Vectors());
        foreach (var (name, parameter) in _head.HuggingFaceParameters())
            yield return (name, parameter);
        if (Method == TuningMethod.FullFineTuning)
        {
            string prefix = _backbone.Config.IsRoberta ? "roberta." : "bert.";
            foreach (var (name, parameter) in _backbone.named_parameters())
                yield return (prefix + name, parameter);
        }
    }
}
