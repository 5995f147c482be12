using Microsoft.ML.Data;
using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Training;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.PTuning;

/// <summary>
/// One training run from options and data to a transformer: checks the columns, loads (or reuses) the base model,
/// tokenizes the data, builds the model and the trainer. Estimators run it to the end; sweeps run it an epoch at a
/// time and may stop it early.
/// </summary>
internal sealed class TrainingSession : IDisposable
{
    private readonly PredictionTask _task;
    private bool _finished;

    private TrainingSession(PrefixTuningOptions options, TaskSpec spec, TaskColumns columns, string[]? classNames,
        TaskEngine engine, PredictionTask task, PrefixTuningTrainer trainer)
    {
        Options = options;
        Spec = spec;
        Columns = columns;
        ClassNames = classNames;
        Engine = engine;
        _task = task;
        Trainer = trainer;
    }

    public PrefixTuningOptions Options { get; }
    public TaskSpec Spec { get; }
    public TaskColumns Columns { get; }
    public string[]? ClassNames { get; }
    public TaskEngine Engine { get; }
    public PrefixTuningTrainer Trainer { get; }

    /// <summary>Prepares a run. <paramref name="env"/> supplies the default seed; <paramref name="log"/> receives progress lines.</summary>
    public static TrainingSession Start(IHostEnvironment env, PrefixTuningOptions options, IDataView trainData, Action<string>? log,
        SweepMetric metric = SweepMetric.Default)
    {
        ArgumentNullException.ThrowIfNull(trainData);
        options.Validate();
        var kind = options is PrefixTuningTokenClassificationOptions ? TaskKind.TokenClassification : TaskKind.SequenceClassification;
        var columns = options switch
        {
            PrefixTuningTextClassificationOptions text => new TaskColumns(text.Sentence1ColumnName, text.Sentence2ColumnName,
                text.LabelColumnName, text.PredictionColumnName, text.ScoreColumnName),
            PrefixTuningTokenClassificationOptions token => new TaskColumns(token.SentenceColumnName, null,
                token.LabelColumnName, token.PredictionColumnName, null),
            _ => throw new ArgumentException($"Unsupported options type {options.GetType().Name}.", nameof(options)),
        };

        var label = kind == TaskKind.TokenClassification
            ? ColumnChecks.RequireKeyVector(trainData.Schema, columns.Label, nameof(PrefixTuningOptions.LabelColumnName))
            : ColumnChecks.RequireKey(trainData.Schema, columns.Label, nameof(PrefixTuningOptions.LabelColumnName));
        int classCount = ColumnChecks.KeyCount(label);
        string[]? classNames = ColumnChecks.KeyValues(label);

        var device = DeviceSelection.Resolve(options.Device);
        var baseModel = BaseModel.Load(options.BaseModelPath!, device, log);
        var spec = new TaskSpec(kind, classCount, options.Method, options.PrefixLength, options.PrefixProjection,
            options.PrefixHiddenSize, options.HiddenDropout);
        int maxTokens = TaskBuilder.MaxTokens(baseModel, spec, options.MaxSequenceLength);
        int seed = options.Seed ?? (env as IHostEnvironmentInternal)?.Seed ?? 0;

        // Seed before the adapter and head are initialized, so a seed fixes the whole run.
        TorchSharp.torch.manual_seed(seed);
        var model = TaskBuilder.CreateModel(baseModel, spec);
        var engine = new TaskEngine(baseModel, model, maxTokens, classCount);
        var task = TaskBuilder.CreatePredictionTask(engine, spec, columns, classNames);

        List<TrainingExample> train;
        Func<double>? validate = null;
        if (task is TokenClassificationTask tokens)
        {
            var sentences = TrainingData.ReadTokenClassification(trainData, columns, classCount, "Training data");
            train = sentences.SelectMany(s => TrainingData.EncodeSentence(baseModel.Tokenizer, maxTokens, s)).ToList();
            if (options.ValidationSet != null)
            {
                var validation = TrainingData.ReadTokenClassification(options.ValidationSet, columns, classCount, nameof(options.ValidationSet));
                if (metric == SweepMetric.EntityF1 && !tokens.HasBioTags)
                    throw new ArgumentException($"The EntityF1 metric needs BIO tags (B-X / I-X) as the key values of label column '{columns.Label}'.", nameof(metric));
                bool entityF1 = metric == SweepMetric.EntityF1 || (metric == SweepMetric.Default && tokens.HasBioTags);
                validate = () => tokens.ValidationMetric(validation, entityF1);
            }
        }
        else
        {
            if (metric == SweepMetric.EntityF1)
                throw new ArgumentException("The EntityF1 metric applies to token classification only; text classification ranks by accuracy.", nameof(metric));
            var text = (TextClassificationTask)task;
            train = TrainingData.ReadTextClassification(trainData, columns, classCount, baseModel.Tokenizer, maxTokens, "Training data", out int skipped);
            if (skipped > 0)
                log?.Invoke($"Skipped {skipped} training rows whose label '{columns.Label}' is missing.");
            if (options.ValidationSet != null)
            {
                var validation = TrainingData.ReadTextClassification(options.ValidationSet, columns, classCount, baseModel.Tokenizer, maxTokens, nameof(options.ValidationSet), out _);
                validate = () => text.Accuracy(validation);
            }
        }

        var settings = new TrainerSettings(options.EffectiveLearningRate, options.EffectiveProjectionLearningRate, options.WeightDecay, options.WarmupRatio, options.ClipNorm,
            options.BatchSize, options.MaxEpochs, options.EarlyStoppingPatience, seed);
        var trainer = new PrefixTuningTrainer(model, train, settings, tokenLabels: kind == TaskKind.TokenClassification,
            baseModel.Tokenizer.PadTokenId, device, validate, options.Progress, log, options.CancellationToken, baseModel.ModeGate);
        log?.Invoke($"{options.Method}: {train.Count} training sequences, {trainer.TrainableParameterCount:N0} trainable parameters, " +
            $"max {maxTokens} tokens per sequence, device {device}.");
        return new TrainingSession(options, spec, columns, classNames, engine, task, trainer);
    }

    /// <summary>Restores the best epoch and hands the trained model over as a transformer (the session no longer owns it).</summary>
    public PrefixTuningTransformer Finish()
    {
        Trainer.RestoreBest();
        _finished = true;
        return TaskBuilder.CreateTransformer(Engine, _task, Spec, Columns, ClassNames, Options.EmbedBaseModel);
    }

    public void Dispose()
    {
        Trainer.Dispose();
        if (!_finished)
            Engine.Dispose();
    }
}
