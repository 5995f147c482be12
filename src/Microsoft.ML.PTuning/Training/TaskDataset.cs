using System.Security.Cryptography;
using Microsoft.ML.PTuning.Runtime;
using Microsoft.ML.PTuning.Tokenization;

namespace Microsoft.ML.PTuning.Training;

/// <summary>
/// Labelled data of one task, read into memory by the ML.NET layer: it knows how its rows become training examples and
/// how a model is scored on them, so the training loop needs neither data views nor task-specific branches.
/// </summary>
internal abstract class TaskDataset
{
    /// <summary>Training examples within <paramref name="maxTokens"/> tokens each.</summary>
    public abstract List<TrainingExample> Encode(EncoderTokenizer tokenizer, int maxTokens);

    /// <summary>Training examples encoded as <paramref name="engine"/> encodes its inputs (its template, if any; its budget).</summary>
    public virtual List<TrainingExample> Encode(InferenceEngine engine) => Encode(engine.Tokenizer, engine.MaxTokens);

    /// <summary>How many labelled rows (text) or labelled words (tokens) each of the <paramref name="classCount"/> classes has.</summary>
    public abstract long[] ClassCounts(int classCount);

    /// <summary>Adds every row's text and labels to <paramref name="hash"/>: what a training checkpoint's fingerprint covers of this data.</summary>
    public abstract void AddTo(IncrementalHash hash);

    /// <summary>Throws, naming the metric, when <paramref name="metric"/> cannot score this task.</summary>
    public abstract void CheckMetric(ValidationMetric metric, string[]? classNames);

    /// <summary>
    /// A scorer of <paramref name="engine"/>'s current model on these rows (higher is better), through the engine's own
    /// batch path, so validation predicts exactly as the transformer will.
    /// </summary>
    public abstract Func<double> CreateValidator(InferenceEngine engine, ValidationMetric metric, string[]? classNames);
}
