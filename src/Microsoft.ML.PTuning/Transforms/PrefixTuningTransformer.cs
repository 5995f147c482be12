using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.PTuning;
using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(PrefixTuningTransformer), null, typeof(SignatureLoadModel),
    "Prefix Tuning Transformer", PrefixTuningTransformer.LoaderSignature)]

namespace Microsoft.ML.PTuning;

/// <summary>
/// A trained prefix-tuning task (text or token classification) as an ML.NET transformer. It adds the prediction
/// column(s) to the input, running the model over batches of rows. Saved through <c>mlContext.Model.Save</c>, it stores
/// only what was trained plus a reference to its base model (or the base model itself, with
/// <see cref="PrefixTuningOptions.EmbedBaseModel"/>).
/// </summary>
public sealed class PrefixTuningTransformer : ITransformer, IDisposable
{
    internal const string LoaderSignature = "PrefixTuningTransform";

    private readonly TaskEngine _engine;
    private readonly PredictionTask _task;

    internal PrefixTuningTransformer(TaskEngine engine, PredictionTask task, TaskKind kind, TaskColumns columns,
        string[]? classNames, TuningMethod method, int prefixLength, bool embedBaseModel)
    {
        _engine = engine;
        _task = task;
        Kind = kind;
        Columns = columns;
        ClassNames = classNames;
        Method = method;
        PrefixLength = prefixLength;
        EmbedBaseModel = embedBaseModel;
    }

    /// <summary>The tuning method the model was trained with.</summary>
    public TuningMethod Method { get; }

    /// <summary>Prefix (or prompt) length; 0 for methods without one.</summary>
    public int PrefixLength { get; }

    /// <summary>Number of scalars the zip stores as trained state (prefix, head; the backbone too for full fine-tuning).</summary>
    public long TrainedParameterCount => _engine.Model.parameters().Sum(p => p.numel())
        + (Method == TuningMethod.FullFineTuning ? _engine.Model.Backbone.parameters().Sum(p => p.numel()) : 0);

    /// <summary>The class names (label key values) predictions map to, when the label column had them.</summary>
    public IReadOnlyList<string>? ClassNames { get; }

    internal TaskKind Kind { get; }
    internal TaskColumns Columns { get; }
    internal bool EmbedBaseModel { get; }
    internal TaskEngine Engine => _engine;

    /// <inheritdoc/>
    public bool IsRowToRowMapper => true;

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return _task.OutputSchema(inputSchema);
    }

    /// <inheritdoc/>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return new PredictionRowMapper(inputSchema, _task);
    }

    /// <inheritdoc/>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new PredictionDataView(input, _task);
    }

    /// <summary>Releases the adapter's tensors (the shared base model stays loaded for other users).</summary>
    public void Dispose() => _engine.Dispose();

    void ICanSaveModel.Save(ModelSaveContext ctx) => ModelZipFormat.Save(this, ctx);

    // Called by ML.NET's component catalog through the LoadableClass attribute above.
    private static PrefixTuningTransformer Create(IHostEnvironment env, ModelLoadContext ctx) => ModelZipFormat.Load(env, ctx);
}
