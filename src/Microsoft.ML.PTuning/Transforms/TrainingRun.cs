using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Runtime;
using Microsoft.ML.PTuning.Training;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.PTuning.Transforms;

/// <summary>
/// One training run from options and data to a transformer: checks the columns, reads the data, loads (or reuses) the
/// base model and starts a <see cref="TrainingSession"/>. Estimators run it to the end; sweeps run it an epoch at a time
/// and may stop it early.
/// </summary>
internal sealed class TrainingRun : IDisposable
{
    private readonly TrainingSession _session;
    private readonly TaskSpec _spec;
    private readonly TaskColumns _columns;
    private readonly string[]? _classNames;
    private readonly bool _embedBaseModel;
    private readonly ComputePrecision _precision;
    private readonly IHostEnvironment _env;

    private TrainingRun(IHostEnvironment env, TrainingSession session, TaskSpec spec, TaskColumns columns, string[]? classNames, bool embedBaseModel,
        ComputePrecision precision)
    {
        _env = env;
        _precision = precision;
        _session = session;
        _spec = spec;
        _columns = columns;
        _classNames = classNames;
        _embedBaseModel = embedBaseModel;
    }

    /// <summary>The training loop (sweeps run it an epoch at a time); HandcraftedPrompt has none.</summary>
    public PrefixTuningTrainer Trainer => _session.Trainer
        ?? throw new InvalidOperationException($"Method {_spec.Method} trains nothing, so its run has no training loop.");

    /// <summary>Trains to the end (best epoch restored); nothing for HandcraftedPrompt.</summary>
    public void Train() => _session.Trainer?.Run();

    /// <summary>
    /// Prepares a run. <paramref name="env"/> (the MLContext) supplies the default seed and device (its GpuDeviceId and
    /// FallbackToCpu) and stops the run when its execution is cancelled; <paramref name="log"/> receives progress lines.
    /// </summary>
    public static TrainingRun Start(IHostEnvironment env, PrefixTuningOptions options, IDataView trainData, Action<string>? log,
        ValidationMetric metric = ValidationMetric.Auto)
    {
        ArgumentNullException.ThrowIfNull(trainData);
        options.Validate();
        env.CheckAlive();
        var kind = KindOf(options);
        var columns = ColumnsOf(options);
        var rules = kind == TaskKind.TokenClassification ? TokenClassificationTask.Rules : TextClassificationTask.Rules;
        var label = rules.Label(columns).Find(trainData.Schema);
        int classCount = KeyColumns.Count(label);
        string[]? classNames = KeyColumns.Names(label);
        var (train, validation) = ReadData(kind, options, columns, classCount, classNames, trainData, log);

        env.CheckAlive();
        var baseModel = BaseModel.Load(options.BaseModelPath!, DeviceSelection.Resolve(options.Device, env, log), log, options.Precision,
            LoadReportTo(options.Progress, log, env));
        env.CheckAlive();
        options.ValidatePrefixDepth(baseModel.Config.NumHiddenLayers);
        var spec = PromptSetup.Apply(new TaskSpec(kind, classCount, options.Method, options.PrefixLength,
            options.Method == TuningMethod.PrefixTuning ? options.PrefixDepth : null, PoolingOf(options, baseModel.Folder, log)),
            options, baseModel, columns, classNames);
        var adapter = new AdapterTraining(options.PrefixProjection, options.PrefixHiddenSize, options.HiddenDropout,
            (options as PrefixTuningTextClassificationOptions)?.PromptEncoderLstm ?? true);
        var session = TrainingSession.Start(baseModel, spec, adapter, SettingsOf(options, env), baseModel.Config.MaxTokens(options.MaxSequenceLength, spec.PositionsUsed),
            train, validation, metric, classNames, ReportTo(options.Progress, log), log, options.CancellationToken,
            options.CheckpointFolder, options.CheckpointInterval, env.CheckAlive);
        return new TrainingRun(env, session, spec, columns, classNames, options.EmbedBaseModel, options.Precision);
    }

    /// <summary>
    /// The pooling a text-classification head uses: as set, or for <see cref="PoolingMode.Auto"/> what the base folder's
    /// sentence-transformers pooling module says (<see cref="PoolingMode.Cls"/> without one). Token classification and the
    /// masked-LM methods (which read the class at the mask) have none: Cls.
    /// </summary>
    public static PoolingMode PoolingOf(PrefixTuningOptions options, string baseFolder, Action<string>? log)
    {
        if (options is not PrefixTuningTextClassificationOptions text || options.Method is TuningMethod.HandcraftedPrompt or TuningMethod.PTuningV1)
            return PoolingMode.Cls;
        if (text.Pooling != PoolingMode.Auto)
            return text.Pooling;
        PoolingMode? declared = Checkpoints.SentenceTransformersPooling.Read(baseFolder);
        log?.Invoke(declared is PoolingMode found
            ? $"Pooling: {found} (Auto: the base folder's sentence-transformers pooling module)."
            : "Pooling: Cls (Auto: the base folder has no sentence-transformers pooling module).");
        return declared ?? PoolingMode.Cls;
    }

    /// <summary>The task the options train.</summary>
    public static TaskKind KindOf(PrefixTuningOptions options) => options switch
    {
        PrefixTuningTokenClassificationOptions => TaskKind.TokenClassification,
        PrefixTuningTextClassificationOptions => TaskKind.SequenceClassification,
        _ => throw new ArgumentException($"Unsupported options type {options.GetType().Name}.", nameof(options)),
    };

    /// <summary>The column names the options give.</summary>
    public static TaskColumns ColumnsOf(PrefixTuningOptions options) => options switch
    {
        PrefixTuningTextClassificationOptions text => new TaskColumns(text.Sentence1ColumnName, text.Sentence2ColumnName,
            text.LabelColumnName, text.PredictionColumnName, text.ScoreColumnName),
        PrefixTuningTokenClassificationOptions token => new TaskColumns(token.SentenceColumnName, null,
            token.LabelColumnName, token.PredictionColumnName, null),
        _ => throw new ArgumentException($"Unsupported options type {options.GetType().Name}.", nameof(options)),
    };

    /// <summary>
    /// Reads both data sets and checks what would otherwise train silently on nonsense: a training label with fewer than two
    /// classes present, a validation set without a labelled row, validation keys that mean other classes.
    /// </summary>
    private static (TaskDataset Train, TaskDataset? Validation) ReadData(TaskKind kind, PrefixTuningOptions options, TaskColumns columns,
        int classCount, string[]? classNames, IDataView trainData, Action<string>? log)
    {
        const string trainName = "Training data";
        const string validationName = nameof(options.ValidationSet);
        TaskDataset train, validation;
        if (kind == TaskKind.TokenClassification)
        {
            train = TrainingDataReader.ReadSentences(trainData, columns, classCount, classNames, trainName, log);
            if (options.ValidationSet == null)
                return Checked(train, null);
            validation = TrainingDataReader.ReadSentences(options.ValidationSet, columns, classCount, classNames, validationName, log);
            return Checked(train, validation);
        }
        train = TrainingDataReader.ReadText(trainData, columns, classCount, classNames, trainName, log, out int skipped);
        if (skipped > 0)
            log?.Invoke($"Skipped {skipped} training rows whose label '{columns.Label}' is missing.");
        if (options.ValidationSet == null)
            return Checked(train, null);
        validation = TrainingDataReader.ReadText(options.ValidationSet, columns, classCount, classNames, validationName, log, out skipped);
        if (skipped > 0)
            log?.Invoke($"Skipped {skipped} {validationName} rows whose label '{columns.Label}' is missing.");
        return Checked(train, validation);

        (TaskDataset, TaskDataset?) Checked(TaskDataset train, TaskDataset? validation)
        {
            TrainingDataReader.RequireTwoClasses(train, columns.Label, classCount, classNames, trainName);
            if (validation != null)
                TrainingDataReader.RequireRows(validation, columns.Label, classCount, validationName);
            return (train, validation);
        }
    }

    private static TrainerSettings SettingsOf(PrefixTuningOptions options, IHostEnvironment env) => new(
        options.EffectiveLearningRate, options.EffectiveProjectionLearningRate, options.WeightDecay, options.WarmupRatio, options.ClipNorm,
        options.BatchSize, options.MaxEpochs, options.EarlyStoppingPatience,
        Seed: options.Seed ?? (env as IHostEnvironmentInternal)?.Seed ?? 0, GroupByLength: options.GroupByLength);

    /// <summary>The training loop's reports as the public progress type, to the options' sink and as log lines.</summary>
    private static Action<TrainingReport> ReportTo(IProgress<PrefixTuningProgress>? progress, Action<string>? log) => report =>
    {
        var publicReport = new PrefixTuningProgress
        {
            Epoch = report.Epoch,
            MaxEpochs = report.MaxEpochs,
            Step = report.Step,
            TotalSteps = report.TotalSteps,
            Loss = report.Loss,
            ValidationMetric = report.ValidationMetric,
            ExamplesPerSecond = report.ExamplesPerSecond,
            EndOfEpoch = report.EndOfEpoch,
            Stage = PrefixTuningProgress.ProgressStage.Training,
            Completed = report.Step,
            Total = report.TotalSteps,
            Elapsed = report.Elapsed,
            EstimatedRemaining = report.Remaining,
        };
        progress?.Report(publicReport);
        log?.Invoke(publicReport.ToString());
    };

    /// <summary>
    /// The base model's load steps as the public progress type, to the options' sink and as log lines; the context's
    /// cancellation is checked between steps (a large base takes a while to hash and read).
    /// </summary>
    private static Action<BaseModelLoadReport> LoadReportTo(IProgress<PrefixTuningProgress>? progress, Action<string>? log, IHostEnvironment env) => report =>
    {
        env.CheckAlive();
        var publicReport = new PrefixTuningProgress
        {
            Stage = PrefixTuningProgress.ProgressStage.LoadingBaseModel,
            Description = report.Step,
            Completed = report.Completed,
            Total = report.Total,
            Elapsed = report.Elapsed,
        };
        progress?.Report(publicReport);
        log?.Invoke(publicReport.ToString());
    };

    /// <summary>Restores the best epoch and hands the trained model over as a transformer (the run no longer owns it).</summary>
    public PrefixTuningTransformer Finish() =>
        new(TrainedTask.Freeze(_session.Finish(), _spec, _columns, _classNames, _embedBaseModel, _precision), _env);

    public void Dispose() => _session.Dispose();
}
