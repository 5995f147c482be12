using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Runtime;
using TorchSharp;

namespace Microsoft.ML.PTuning.Training;

/// <summary>
/// One training run over a loaded base: builds the task model and its engine, tokenizes the data and prepares the
/// trainer. The caller runs the trainer (to the end, or an epoch at a time as sweeps do) and then takes the engine
/// with <see cref="Finish"/>.
/// </summary>
internal sealed class TrainingSession : IDisposable
{
    private bool _finished;

    private TrainingSession(InferenceEngine engine, PrefixTuningTrainer? trainer)
    {
        Engine = engine;
        Trainer = trainer;
    }

    /// <summary>The model being trained, behind the engine that validation (and later inference) runs it through.</summary>
    private InferenceEngine Engine { get; }

    /// <summary>The training loop, or null for <see cref="TuningMethod.HandcraftedPrompt"/>, which trains nothing.</summary>
    public PrefixTuningTrainer? Trainer { get; }

    /// <param name="baseModel">The loaded, frozen base.</param>
    /// <param name="spec">The task model's shape.</param>
    /// <param name="adapter">How the adapter is built for training.</param>
    /// <param name="settings">The loop's numbers (rates, epochs, seed).</param>
    /// <param name="maxTokens">The token budget per sequence (<see cref="EncoderConfig.MaxTokens"/>).</param>
    /// <param name="train">The training rows.</param>
    /// <param name="validation">Rows scored after each epoch, or null.</param>
    /// <param name="metric">How <paramref name="validation"/> is scored.</param>
    /// <param name="classNames">The label's class names, or null (entity F1 needs BIO names).</param>
    /// <param name="progress">Receives the loop's reports.</param>
    /// <param name="log">Receives progress lines.</param>
    /// <param name="cancellation">Stops the run between steps.</param>
    /// <param name="checkpointFolder">Where the run saves its state and resumes from (<see cref="TrainingCheckpoint"/>), or null.</param>
    /// <param name="checkpointInterval">The time between mid-epoch checkpoints.</param>
    /// <param name="checkAlive">Called between steps; throws to stop the run (the host's cancellation), or null.</param>
    public static TrainingSession Start(BaseModel baseModel, TaskSpec spec, AdapterTraining adapter, TrainerSettings settings,
        int maxTokens, TaskDataset train, TaskDataset? validation, ValidationMetric metric, string[]? classNames,
        Action<TrainingReport>? progress, Action<string>? log, CancellationToken cancellation,
        string? checkpointFolder = null, TimeSpan checkpointInterval = default, Action? checkAlive = null)
    {
        train.CheckMetric(metric, classNames);
        // Seed before the adapter and head are initialized, so a seed fixes the whole run.
        torch.manual_seed(settings.Seed);
        var model = TaskModels.CreateForTraining(baseModel, spec, adapter);
        var engine = new InferenceEngine(baseModel, model, maxTokens, spec.ClassCount, TaskModels.TemplateOf(baseModel, spec));
        try
        {
            var examples = train.Encode(engine);
            if (spec.Method == TuningMethod.HandcraftedPrompt)
            {
                // Zero-shot: the data only had to be readable through the template; nothing is trained.
                log?.Invoke($"{spec.Method}: nothing to train; {examples.Count} rows read through the template, {spec.ClassCount} classes.");
                return new TrainingSession(engine, null);
            }
            var validate = validation?.CreateValidator(engine, metric, classNames);
            var checkpoint = checkpointFolder == null ? null : new TrainingCheckpoint(checkpointFolder, checkpointInterval,
                TrainingFingerprint.Compute(baseModel, spec, adapter, settings, maxTokens, examples, validation, metric, classNames), log);
            var trainer = new PrefixTuningTrainer(model, examples, settings, tokenLabels: spec.Kind == TaskKind.TokenClassification,
                baseModel.Tokenizer.PadTokenId, baseModel.Device, validate, progress, log, cancellation, baseModel.ModeGate, checkpoint, checkAlive);
            log?.Invoke($"{spec.Method}: {examples.Count} training sequences, {trainer.TrainableParameterCount:N0} trainable parameters, " +
                $"max {maxTokens} tokens per sequence, device {baseModel.Device}.");
            return new TrainingSession(engine, trainer);
        }
        catch
        {
            engine.Dispose();
            throw;
        }
    }

    /// <summary>Restores the best epoch and hands the engine over (the session no longer owns it).</summary>
    public InferenceEngine Finish()
    {
        Trainer?.RestoreBest();
        _finished = true;
        return Engine;
    }

    public void Dispose()
    {
        Trainer?.Dispose();
        if (!_finished)
            Engine.Dispose();
    }
}
