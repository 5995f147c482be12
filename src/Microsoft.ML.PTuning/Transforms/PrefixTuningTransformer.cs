using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.PTuning;
using Microsoft.ML.PTuning.Persistence;
using Microsoft.ML.PTuning.Runtime;
using Microsoft.ML.PTuning.Transforms;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(PrefixTuningTransformer), null, typeof(SignatureLoadModel),
    "Prefix Tuning Transformer", ModelZipFormat.LoaderSignature)]

namespace Microsoft.ML.PTuning;

/// <summary>
/// A trained prefix-tuning task (text or token classification) as an ML.NET transformer. It adds the prediction
/// column(s) to the input, running the model over batches of rows. Saved through <c>mlContext.Model.Save</c>, it stores
/// only what was trained plus a reference to its base model (or the base model itself, with
/// <see cref="PrefixTuningOptions.EmbedBaseModel"/>).
/// </summary>
public sealed class PrefixTuningTransformer : ITransformer, IDisposable
{
    private readonly IPredictionTask _prediction;

    /// <param name="task">The trained task.</param>
    /// <param name="env">The ML.NET context it was trained or loaded in: a <c>Transform</c> stops when its execution is cancelled.</param>
    internal PrefixTuningTransformer(TrainedTask task, IHostEnvironment? env)
    {
        Trained = task;
        _prediction = task.Spec.Kind == TaskKind.TokenClassification
            ? new TokenClassificationTask(task) { Host = env }
            : new TextClassificationTask(task) { Host = env };
    }

    /// <summary>The tuning method the model was trained with.</summary>
    public TuningMethod Method => Trained.Spec.Method;

    /// <summary>Prefix (or prompt) length (P-Tuning v1: the template's prompt vectors); 0 for methods without one.</summary>
    public int PrefixLength => Trained.Spec.Method == TuningMethod.PTuningV1 ? Trained.Engine.Model.PrefixLength : Trained.Spec.PositionsUsed;

    /// <summary>The cloze template (every <c>{prompt}</c> resolved to <c>{prompt:N}</c>) of HandcraftedPrompt and PTuningV1; else null.</summary>
    public string? PromptTemplate => Trained.Spec.PromptTemplate;

    /// <summary>Number of scalars the zip stores as trained state (prefix, head; the backbone too for full fine-tuning).</summary>
    public long TrainedParameterCount => Trained.Engine.Model.parameters().Sum(p => p.numel())
        + (Method == TuningMethod.FullFineTuning ? Trained.Engine.Model.Backbone.parameters().Sum(p => p.numel()) : 0);

    /// <summary>The class names (label key values) predictions map to, when the label column had them.</summary>
    public IReadOnlyList<string>? ClassNames => Trained.ClassNames;

    internal TrainedTask Trained { get; }

    internal InferenceEngine Engine => Trained.Engine;

    /// <inheritdoc/>
    public bool IsRowToRowMapper => true;

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return _prediction.OutputSchema(inputSchema);
    }

    /// <inheritdoc/>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return _prediction.CreateRowMapper(inputSchema);
    }

    /// <inheritdoc/>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return _prediction.Transform(input);
    }

    /// <summary>Releases the adapter's tensors (the shared base model stays loaded for other users).</summary>
    public void Dispose() => Trained.Engine.Dispose();

    void ICanSaveModel.Save(ModelSaveContext ctx) => ModelZipFormat.Save(Trained, ctx);

    // Called by ML.NET's component catalog through the LoadableClass attribute above.
    private static PrefixTuningTransformer Create(IHostEnvironment env, ModelLoadContext ctx) => new(ModelZipFormat.Load(env, ctx), env);
}
