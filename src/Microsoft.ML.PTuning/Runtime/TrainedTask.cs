using Microsoft.ML.PTuning.Modeling;

namespace Microsoft.ML.PTuning.Runtime;

/// <summary>
/// A trained task as training hands it over and the model zip stores it: the engine (model ready for inference), its
/// shape, its columns and class names (the label's key values, or null when it had none), and whether a saved zip
/// carries its base model.
/// </summary>
internal sealed record TrainedTask(InferenceEngine Engine, TaskSpec Spec, TaskColumns Columns, string[]? ClassNames, bool EmbedBaseModel)
{
    /// <summary>
    /// The precision the task was trained with as the options asked for it (Auto stays Auto): what a zip records, so a
    /// loaded model runs in it again, Auto resolved on the loading machine. The engine's base holds the resolved one.
    /// </summary>
    public ComputePrecision Precision { get; init; }

    /// <summary>Freezes a trained (or loaded) engine for inference: prefix folded flat, eval mode.</summary>
    public static TrainedTask Freeze(InferenceEngine engine, TaskSpec spec, TaskColumns columns, string[]? classNames, bool embedBaseModel,
        ComputePrecision precision = ComputePrecision.Float32)
    {
        engine.Model.FoldPrefix();
        engine.Model.eval();
        return new TrainedTask(engine, spec, columns, classNames, embedBaseModel) { Precision = precision };
    }
}
