using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Tokenization;

namespace Microsoft.ML.PTuning.Runtime;

/// <summary>Builds task models over a loaded base the same way for training, sweeps and loading.</summary>
internal static class TaskModels
{
    /// <summary>A new model to train over the shared backbone; full fine-tuning gets its own copy, since it trains it.</summary>
    public static PrefixTunedModel CreateForTraining(BaseModel baseModel, TaskSpec spec, AdapterTraining adapter) =>
        new(Backbone(baseModel, spec), spec.Kind, spec.ClassCount, spec.Method, spec.PrefixLength,
            adapter.PrefixProjection, adapter.PrefixHiddenSize, adapter.Dropout, spec.PrefixDepth, spec.Pooling,
            MaskedLanguageModelOf(baseModel, spec, adapter.PromptEncoderLstm));

    /// <summary>
    /// A model to load trained state into: the prefix in the flat form it is saved in (training folded any projection),
    /// no dropout (inference never uses it).
    /// </summary>
    public static PrefixTunedModel CreateForLoading(BaseModel baseModel, TaskSpec spec) =>
        new(Backbone(baseModel, spec), spec.Kind, spec.ClassCount, spec.Method, spec.PrefixLength,
            prefixProjection: false, dropout: 0, prefixDepth: spec.PrefixDepth, pooling: spec.Pooling,
            maskedLanguageModel: MaskedLanguageModelOf(baseModel, spec, promptEncoderLstm: null));

    /// <summary>The template inputs are rendered through (HandcraftedPrompt, PTuningV1), or null (plain text or pairs).</summary>
    public static PromptTemplate? TemplateOf(BaseModel baseModel, TaskSpec spec) =>
        spec.PromptTemplate is null ? null : PromptTemplate.Create(spec.PromptTemplate, baseModel.Tokenizer, spec.PrefixLength);

    /// <summary>Why a base cannot serve the masked-LM methods: its weight file has no masked-LM head.</summary>
    public static string NoHeadMessage(BaseModel baseModel, TuningMethod method) =>
        $"Method {method} reads the class at a mask with the base model's masked-language-model head, but '{baseModel.WeightsPath}' has none " +
        $"({(baseModel.Config.IsRoberta ? "lm_head.*" : "cls.predictions.*")}; bare encoders saved as {(baseModel.Config.IsRoberta ? "RobertaModel" : "BertModel")} " +
        "and the MiniLM ONNX import have none): set BaseModelPath to a *ForMaskedLM checkpoint.";

    private static MaskedLanguageModelPrompt? MaskedLanguageModelOf(BaseModel baseModel, TaskSpec spec, bool? promptEncoderLstm)
    {
        if (!spec.UsesMaskedLanguageModel)
            return null;
        var head = baseModel.MaskedLanguageModelHead ?? throw new InvalidOperationException(NoHeadMessage(baseModel, spec.Method));
        var template = TemplateOf(baseModel, spec) ?? throw new InvalidOperationException($"Method {spec.Method} needs a prompt template; the task has none.");
        var words = spec.LabelWords ?? throw new InvalidOperationException($"Method {spec.Method} needs label words (a verbalizer); the task has none.");
        var pieces = words.Select(classWords => (IReadOnlyList<int[]>)classWords.Select(baseModel.Tokenizer.EncodeWord).ToArray()).ToArray();
        return new MaskedLanguageModelPrompt(head, baseModel.Tokenizer.MaskTokenId, pieces, template.PromptLength,
            spec.Method == TuningMethod.PTuningV1 ? promptEncoderLstm : null);
    }

    private static TransformerEncoder Backbone(BaseModel baseModel, TaskSpec spec) =>
        spec.Method == TuningMethod.FullFineTuning ? baseModel.Encoder.Clone() : baseModel.Encoder;
}
