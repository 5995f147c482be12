using Microsoft.ML.PTuning.Modeling;

namespace Microsoft.ML.PTuning;

/// <summary>Builds task models and transformers the same way for training, loading and sweeps.</summary>
internal static class TaskBuilder
{
    /// <summary>A new model over the shared backbone; full fine-tuning gets its own copy, since it trains it.</summary>
    public static PrefixTunedModel CreateModel(BaseModel baseModel, TaskSpec spec)
    {
        var backbone = spec.Method == TuningMethod.FullFineTuning ? baseModel.Encoder.Clone() : baseModel.Encoder;
        return new PrefixTunedModel(backbone, spec.Kind, spec.ClassCount, spec.Method, spec.PrefixLength,
            spec.PrefixProjection, Math.Max(1, spec.PrefixHiddenSize), spec.Dropout);
    }

    /// <summary>The token budget per sequence for this base and adapter (see <see cref="Tokenization.EncoderTokenizer.MaxTokens"/>).</summary>
    public static int MaxTokens(BaseModel baseModel, TaskSpec spec, int maxSequenceLength) =>
        Tokenization.EncoderTokenizer.MaxTokens(maxSequenceLength, baseModel.Config.MaxPositionEmbeddings, spec.PositionsUsed,
            baseModel.Config.ModelType, baseModel.Config.PadTokenId);

    public static PredictionTask CreatePredictionTask(TaskEngine engine, TaskSpec spec, TaskColumns columns, string[]? classNames) =>
        spec.Kind == TaskKind.TokenClassification
            ? new TokenClassificationTask(engine, columns, classNames)
            : new TextClassificationTask(engine, columns, classNames);

    /// <summary>Freezes a trained (or loaded) engine for inference: prefix folded flat, eval mode.</summary>
    public static PrefixTuningTransformer CreateTransformer(TaskEngine engine, PredictionTask task, TaskSpec spec,
        TaskColumns columns, string[]? classNames, bool embedBaseModel)
    {
        engine.Model.FoldPrefix();
        engine.Model.eval();
        return new PrefixTuningTransformer(engine, task, spec.Kind, columns, classNames, spec.Method, spec.PositionsUsed, embedBaseModel);
    }
}
