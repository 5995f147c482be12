using Microsoft.ML.PTuning.Modeling;

namespace Microsoft.ML.PTuning.Runtime;

/// <summary>Builds task models over a loaded base the same way for training, sweeps and loading.</summary>
internal static class TaskModels
{
    /// <summary>A new model to train over the shared backbone; full fine-tuning gets its own copy, since it trains it.</summary>
    public static PrefixTunedModel CreateForTraining(BaseModel baseModel, TaskSpec spec, AdapterTraining adapter) =>
        new(Backbone(baseModel, spec), spec.Kind, spec.ClassCount, spec.Method, spec.PrefixLength,
            adapter.PrefixProjection, adapter.PrefixHiddenSize, adapter.Dropout, spec.PrefixDepth, spec.Pooling);

    /// <summary>
    /// A model to load trained state into: the prefix in the flat form it is saved in (training folded any projection),
    /// no dropout (inference never uses it).
    /// </summary>
    public static PrefixTunedModel CreateForLoading(BaseModel baseModel, TaskSpec spec) =>
        new(Backbone(baseModel, spec), spec.Kind, spec.ClassCount, spec.Method, spec.PrefixLength,
            prefixProjection: false, dropout: 0, prefixDepth: spec.PrefixDepth, pooling: spec.Pooling);

    private static TransformerEncoder Backbone(BaseModel baseModel, TaskSpec spec) =>
        spec.Method == TuningMethod.FullFineTuning ? baseModel.Encoder.Clone() : baseModel.Encoder;
}
