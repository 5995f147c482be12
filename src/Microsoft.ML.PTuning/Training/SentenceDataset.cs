using System.Security.Cryptography;
using Microsoft.ML.PTuning.Evaluation;
using Microsoft.ML.PTuning.Runtime;
using Microsoft.ML.PTuning.Tokenization;

namespace Microsoft.ML.PTuning.Training;

/// <summary>
/// Token classification sentences, one class per word; scored by entity micro-F1 (BIO class names) or word accuracy.
/// </summary>
/// <remarks>
/// Training uses windows without overlap, so each labelled word counts once in the loss, on its first sub-token;
/// validation predicts as inference does (<see cref="InferenceEngine.TagWords"/>, overlapping windows).
/// </remarks>
internal sealed class SentenceDataset : TaskDataset
{
    private readonly IReadOnlyList<LabeledSentence> _sentences;
    private readonly string _labelName;

    /// <param name="sentences">The sentences.</param>
    /// <param name="labelName">What the labels were read from (a column name), for messages.</param>
    public SentenceDataset(IReadOnlyList<LabeledSentence> sentences, string labelName)
    {
        _sentences = sentences;
        _labelName = labelName;
    }

    /// <summary>True when the class names look like BIO tags, so entity F1 applies.</summary>
    public static bool HasBioTags(string[]? classNames) =>
        classNames != null && classNames.Any(n => n.StartsWith("B-", StringComparison.Ordinal) || n.StartsWith("I-", StringComparison.Ordinal));

    public override List<TrainingExample> Encode(EncoderTokenizer tokenizer, int maxTokens) =>
        _sentences.SelectMany(s => EncodeSentence(tokenizer, maxTokens, s)).ToList();

    private static IEnumerable<TrainingExample> EncodeSentence(EncoderTokenizer tokenizer, int maxTokens, LabeledSentence sentence)
    {
        if (sentence.Words.Length == 0)
            yield break;
        foreach (EncodedWords window in tokenizer.EncodeWordWindows(sentence.Words, maxTokens, overlapWords: 0))
        {
            var labels = window.WordIndex.Select(w => w >= 0 && sentence.Labels[w] >= 0 ? sentence.Labels[w] : TrainingExample.IgnoreIndex).ToArray();
            yield return new TrainingExample(window.Text, labels);
        }
    }

    public override long[] ClassCounts(int classCount)
    {
        var counts = new long[classCount];
        foreach (int label in _sentences.SelectMany(s => s.Labels).Where(l => l >= 0))
            counts[label]++;
        return counts;
    }

    public override void AddTo(IncrementalHash hash)
    {
        foreach (var sentence in _sentences)
        {
            TrainingFingerprint.Add(hash, sentence.Words.Length);
            foreach (string word in sentence.Words)
                TrainingFingerprint.Add(hash, word);
            foreach (int label in sentence.Labels)
                TrainingFingerprint.Add(hash, label);
        }
    }

    public override void CheckMetric(ValidationMetric metric, string[]? classNames)
    {
        if (metric == ValidationMetric.EntityF1 && !HasBioTags(classNames))
            throw new ArgumentException($"The EntityF1 metric needs BIO tags (B-X / I-X) as the key values of label column '{_labelName}'.", nameof(metric));
    }

    public override Func<double> CreateValidator(InferenceEngine engine, ValidationMetric metric, string[]? classNames)
    {
        CheckMetric(metric, classNames);
        bool entityF1 = metric == ValidationMetric.EntityF1 || (metric == ValidationMetric.Auto && HasBioTags(classNames));
        var words = _sentences.Select(s => s.Words).ToList();
        return entityF1 ? () => EntityF1(engine.TagWords(words), classNames!) : () => WordAccuracy(engine.TagWords(words));
    }

    private double EntityF1(int[][] predicted, string[] classNames)
    {
        string[] Tags(int[] classes) => classes.Select(c => c >= 0 ? classNames[c] : "O").ToArray();
        return EntityMetricsAccumulator.Compute(_sentences.Select(s => Tags(s.Labels)).ToList(), predicted.Select(Tags).ToList()).F1;
    }

    private double WordAccuracy(int[][] predicted)
    {
        long correct = 0, total = 0;
        for (int s = 0; s < _sentences.Count; s++)
        {
            for (int w = 0; w < predicted[s].Length; w++)
            {
                if (_sentences[s].Labels[w] < 0)
                    continue;
                total++;
                if (predicted[s][w] == _sentences[s].Labels[w])
                    correct++;
            }
        }
        return total == 0 ? 0 : (double)correct / total;
    }
}
