using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Runtime;

namespace Microsoft.ML.PTuning.Training;

/// <summary>
/// The SHA-256 of everything that decides a training run's course: the base (weights' SHA-256 and config), the task
/// model's shape and adapter, the loop's settings, the token budget, the metric, the class names, the encoded training
/// examples with their labels and the validation rows. A checkpoint resumes a run only when its fingerprint is the
/// run's; anything that would change the result changes the fingerprint. What does not change the result (the
/// device, the checkpoint folder and interval, progress sinks) is left out, so a run may resume elsewhere.
/// </summary>
internal static class TrainingFingerprint
{
    public static string Compute(BaseModel baseModel, TaskSpec spec, AdapterTraining adapter, TrainerSettings settings, int maxTokens,
        IReadOnlyList<TrainingExample> examples, TaskDataset? validation, ValidationMetric metric, string[]? classNames)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Add(hash, "ptuning-training-fingerprint-1");
        Add(hash, baseModel.WeightsSha256);
        Add(hash, baseModel.Config.ToJson());
        Add(hash, baseModel.Precision.ToString());
        Add(hash, $"{spec.Kind}|{spec.ClassCount}|{spec.Method}|{spec.PrefixLength}|{spec.PrefixDepth}|{spec.Pooling}");
        Add(hash, string.Create(CultureInfo.InvariantCulture, $"{adapter.PrefixProjection}|{adapter.PrefixHiddenSize}|{adapter.Dropout:R}"));
        if (spec.UsesMaskedLanguageModel)
        {
            Add(hash, $"{spec.PromptTemplate}|{adapter.PromptEncoderLstm}");
            foreach (string[] words in spec.LabelWords ?? [])
            {
                Add(hash, words.Length);
                foreach (string word in words)
                    Add(hash, word);
            }
        }
        Add(hash, string.Create(CultureInfo.InvariantCulture,
            $"{settings.LearningRate:R}|{settings.ProjectionLearningRate:R}|{settings.WeightDecay:R}|{settings.WarmupRatio:R}|{settings.ClipNorm:R}|" +
            $"{settings.BatchSize}|{settings.MaxEpochs}|{settings.EarlyStoppingPatience}|{settings.Seed}|" +
            $"{settings.GroupByLength}|{settings.BelowPrefixCacheBytes}|{settings.BelowPrefixCacheType}"));
        Add(hash, maxTokens);
        Add(hash, metric.ToString());
        Add(hash, classNames?.Length ?? -1);
        foreach (string name in classNames ?? [])
            Add(hash, name);
        Add(hash, examples.Count);
        foreach (var example in examples)
        {
            Add(hash, example.Tokens.InputIds);
            Add(hash, example.Tokens.TokenTypeIds);
            Add(hash, example.Labels);
        }
        Add(hash, validation == null ? "no validation" : "validation");
        validation?.AddTo(hash);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Adds a string, length-prefixed so that ("ab", "c") and ("a", "bc") differ; null differs from "".</summary>
    public static void Add(IncrementalHash hash, string? value)
    {
        if (value == null)
        {
            Add(hash, -1);
            return;
        }
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        Add(hash, bytes.Length);
        hash.AppendData(bytes);
    }

    public static void Add(IncrementalHash hash, int value)
    {
        Span<byte> bytes = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        hash.AppendData(bytes);
    }

    private static void Add(IncrementalHash hash, int[] values)
    {
        Add(hash, values.Length);
        foreach (int value in values)
            Add(hash, value);
    }
}
