using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Tokenization;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Runtime;

/// <summary>
/// A task model ready to predict: base model + adapter + head, the tokenizer and the token budget. Every forward pass
/// of a trained task goes through <see cref="Run"/> — predictions of a transformer and validation during training alike —
/// in batches (never one forward per row), in eval mode without gradients, one batch at a time across threads.
/// </summary>
internal sealed class InferenceEngine : IDisposable
{
    /// <summary>Rows per inference forward pass.</summary>
    public const int BatchSize = 32;

    /// <summary>
    /// Rows <see cref="Run"/> sorts by length together before cutting them into batches (8 batches), and so the rows a
    /// transform reads ahead (<c>PredictionDataView</c>): the larger the window, the closer each batch's rows are in
    /// length and the less padding it computes, at the cost of holding the window's logits.
    /// </summary>
    public const int WindowSize = 8 * BatchSize;

    public InferenceEngine(BaseModel baseModel, PrefixTunedModel model, int maxTokens, int classCount, PromptTemplate? template = null)
    {
        Template = template;
        Base = baseModel;
        Model = model;
        MaxTokens = maxTokens;
        ClassCount = classCount;
    }

    public BaseModel Base { get; }
    public PrefixTunedModel Model { get; }
    public EncoderTokenizer Tokenizer => Base.Tokenizer;

    /// <summary>Tokens per sequence, special tokens included, after the prefix's share of the position table.</summary>
    public int MaxTokens { get; }

    public int ClassCount { get; }

    /// <summary>The cloze template text inputs are rendered through (HandcraftedPrompt, PTuningV1), or null.</summary>
    public PromptTemplate? Template { get; }

    /// <summary>Words a window repeats from the previous one when a sentence exceeds the budget: an eighth of it.</summary>
    private int OverlapWords => Math.Max(0, (MaxTokens - 2) / 8);

    /// <summary>
    /// Runs the model over token sequences in batches and hands each row's logits to <paramref name="consume"/>, in
    /// input order: <c>[C]</c> for sequence classification, <c>[T, C]</c> flattened (T the row's own length) for token
    /// classification. Each window of <see cref="WindowSize"/> rows runs in length-sorted batches
    /// (<see cref="LengthBuckets"/>), so a batch pads to about its rows' own length; a row's logits do not depend on the
    /// batch it ran in (padding is masked), up to float rounding.
    /// </summary>
    public void Run(IReadOnlyList<EncodedText> sequences, RowLogits consume)
    {
        for (int windowStart = 0; windowStart < sequences.Count; windowStart += WindowSize)
        {
            int count = Math.Min(WindowSize, sequences.Count - windowStart);
            var rows = new float[count][];
            foreach (int[] members in LengthBuckets.Batches(sequences, windowStart, count, BatchSize))
            {
                var slice = members.Select(r => sequences[windowStart + r]).ToList();
                RunBatch(slice, (r, logits) => rows[members[r]] = logits.ToArray());
            }
            for (int r = 0; r < count; r++)
                consume(windowStart + r, CheckFinite(rows[r], windowStart + r));
        }
    }

    // One forward pass over a batch; row r of the slice goes to consume(r, ...).
    private void RunBatch(List<EncodedText> slice, RowLogits consume)
    {
        float[] logits;
        long[] shape;
        // The base model's gate: the backbone may be shared with a model that is training (see PrefixTuningTrainer).
        lock (Base.ModeGate)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            if (Model.training || Model.Backbone.training)
                Model.eval();   // only after training left it in train mode: no per-batch walk of the modules
            using var batch = TokenBatch.Collate(slice, Tokenizer.PadTokenId, Base.Device);
            Tensor output = Model.forward(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds).to(ScalarType.Float32).cpu();
            shape = output.shape;
            logits = output.data<float>().ToArray();
        }

        int perRow = logits.Length / slice.Count;
        for (int r = 0; r < slice.Count; r++)
        {
            int rowLength = shape.Length == 3 ? slice[r].InputIds.Length * (int)shape[2] : perRow;
            consume(r, logits.AsSpan(r * perRow, rowLength));
        }
    }

    /// <summary>
    /// The row's logits, or an error naming the row when one is NaN or infinite: ArgMax and softmax would turn them into a
    /// label and probabilities that look like any other.
    /// </summary>
    private static ReadOnlySpan<float> CheckFinite(ReadOnlySpan<float> logits, int row)
    {
        foreach (float value in logits)
        {
            if (!float.IsFinite(value))
            {
                throw new InvalidOperationException(
                    $"The prefix-tuning model produced a non-finite logit ({value}) for input {row} (0-based, in the order given): " +
                    "its parameters or the base model's weights are not usable; retrain or reload the model.");
            }
        }
        return logits;
    }

    /// <summary>Class probabilities per sequence (softmax of the logits; each row sums to 1).</summary>
    public float[][] Classify(IReadOnlyList<EncodedText> sequences)
    {
        var result = new float[sequences.Count][];
        Run(sequences, (row, logits) => result[row] = Softmax(logits));
        return result;
    }

    /// <summary>Class probabilities per sentence (pair), tokenized within <see cref="MaxTokens"/> (pairs longest-first).</summary>
    public float[][] Classify(IReadOnlyList<SentencePair> inputs) => Classify(inputs.Select(Encode).ToList());

    /// <summary>Tokenizes one text-classification input within the budget (through the template, if the task has one).</summary>
    public EncodedText Encode(SentencePair input) =>
        Template is null ? input.Encode(Tokenizer, MaxTokens) : Template.Encode(input.Sentence1, input.Sentence2, MaxTokens);

    /// <summary>
    /// The 0-based class of every word of each sentence. A sentence longer than the budget is covered by overlapping
    /// windows of whole words (<see cref="EncoderTokenizer.EncodeWordWindows"/>); a word seen by two windows takes the
    /// prediction of the window in which it sits farther from an edge, i.e. has more context on its short side. Windows
    /// of all sentences share batches.
    /// </summary>
    public int[][] TagWords(IReadOnlyList<string[]> sentences)
    {
        var windows = new List<(int Sentence, EncodedWords Window)>();
        for (int s = 0; s < sentences.Count; s++)
        {
            if (sentences[s].Length == 0)
                continue;
            foreach (var window in Tokenizer.EncodeWordWindows(sentences[s], MaxTokens, OverlapWords))
                windows.Add((s, window));
        }

        var predictions = sentences.Select(w => new int[w.Length]).ToArray();
        var margins = sentences.Select(w => Enumerable.Repeat(-1, w.Length).ToArray()).ToArray();
        Run(windows.Select(w => w.Window.Text).ToList(), (row, logits) =>
        {
            var (sentence, window) = windows[row];
            int first = window.FirstWord, count = window.WordCount;
            for (int t = 0; t < window.WordIndex.Length; t++)
            {
                int word = window.WordIndex[t];
                if (word < 0)
                    continue;
                int margin = Math.Min(word - first, first + count - 1 - word);
                if (margin <= margins[sentence][word])
                    continue;
                margins[sentence][word] = margin;
                predictions[sentence][word] = ArgMax(logits.Slice(t * ClassCount, ClassCount));
            }
        });
        return predictions;
    }

    public static float[] Softmax(ReadOnlySpan<float> logits)
    {
        float max = float.NegativeInfinity;
        foreach (float v in logits)
            max = Math.Max(max, v);
        var exp = new float[logits.Length];
        double sum = 0;
        for (int i = 0; i < exp.Length; i++)
        {
            exp[i] = MathF.Exp(logits[i] - max);
            sum += exp[i];
        }
        for (int i = 0; i < exp.Length; i++)
            exp[i] /= (float)sum;
        return exp;
    }

    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
                best = i;
        }
        return best;
    }

    public void Dispose()
    {
        // The backbone is shared except under full fine-tuning, where the model trained its own copy.
        if (Model.Method == TuningMethod.FullFineTuning)
            Model.Backbone.Dispose();
        Model.Dispose();
    }
}
