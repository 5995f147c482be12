using System.Security.Cryptography;
using Microsoft.ML.PTuning.Runtime;
using Microsoft.ML.PTuning.Tokenization;

namespace Microsoft.ML.PTuning.Training;

/// <summary>Text classification rows (single sentences or pairs), each with one class; scored by accuracy.</summary>
internal sealed class TextDataset : TaskDataset
{
    private readonly IReadOnlyList<LabeledText> _rows;

    public TextDataset(IReadOnlyList<LabeledText> rows) => _rows = rows;

    public override List<TrainingExample> Encode(EncoderTokenizer tokenizer, int maxTokens) =>
        _rows.Select(r => new TrainingExample(r.Input.Encode(tokenizer, maxTokens), new[] { r.Label }))
            .ToList();

    // Through the engine's template when the task has one (the masked-LM methods), as validation and prediction encode.
    public override List<TrainingExample> Encode(InferenceEngine engine) =>
        _rows.Select(r => new TrainingExample(engine.Encode(r.Input), new[] { r.Label })).ToList();

    public override long[] ClassCounts(int classCount)
    {
        var counts = new long[classCount];
        foreach (var row in _rows)
            counts[row.Label]++;
        return counts;
    }

    public override void AddTo(IncrementalHash hash)
    {
        foreach (var row in _rows)
        {
            TrainingFingerprint.Add(hash, row.Input.Sentence1);
            TrainingFingerprint.Add(hash, row.Input.Sentence2);
            TrainingFingerprint.Add(hash, row.Label);
        }
    }

    public override void CheckMetric(ValidationMetric metric, string[]? classNames)
    {
        if (metric == ValidationMetric.EntityF1)
            throw new ArgumentException("The EntityF1 metric applies to token classification only; text classification ranks by accuracy.", nameof(metric));
    }

    public override Func<double> CreateValidator(InferenceEngine engine, ValidationMetric metric, string[]? classNames)
    {
        CheckMetric(metric, classNames);
        // Tokenized once here, not every epoch.
        var tokens = _rows.Select(r => engine.Encode(r.Input)).ToList();
        return () =>
        {
            int correct = 0;
            engine.Run(tokens, (row, logits) =>
            {
                if (InferenceEngine.ArgMax(logits) == _rows[row].Label)
                    correct++;
            });
            return _rows.Count == 0 ? 0 : (double)correct / _rows.Count;
        };
    }
}
