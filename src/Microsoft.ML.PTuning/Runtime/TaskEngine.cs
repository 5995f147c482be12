using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Tokenization;
using Microsoft.ML.PTuning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning;

/// <summary>
/// A trained task ready for inference: base model + adapter + head, the tokenizer and the token budget. Runs batches
/// (never one forward per row), in eval mode without gradients, one batch at a time across threads.
/// </summary>
internal sealed class TaskEngine : IDisposable
{
    /// <summary>Rows per inference forward pass.</summary>
    public const int InferenceBatchSize = 32;

    public TaskEngine(BaseModel baseModel, PrefixTunedModel model, int maxTokens, int classCount)
    {
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

    /// <summary>Runs the model over tokenized sequences in batches and hands each row's logits to <paramref name="consume"/>.</summary>
    /// <param name="sequences">Token ids and token types per row.</param>
    /// <param name="consume">Called with the row index and that row's logits: [C] for sequences, [T, C] flattened for tokens.</param>
    public void Run(IReadOnlyList<(int[] InputIds, int[] TokenTypeIds)> sequences, Action<int, float[]> consume)
    {
        for (int start = 0; start < sequences.Count; start += InferenceBatchSize)
        {
            var slice = sequences.Skip(start).Take(InferenceBatchSize).ToList();
            float[] logits;
            long[] shape;
            // The base model's gate: the backbone may be shared with a model that is training (see PrefixTuningTrainer).
            lock (Base.ModeGate)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                Model.eval();
                using var batch = Batch.Collate(slice, labels: null, tokenLabels: false, Tokenizer.PadTokenId, Base.Device);
                Tensor output = Model.forward(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds).to(ScalarType.Float32).cpu();
                shape = output.shape;
                logits = output.data<float>().ToArray();
            }

            long perRow = logits.Length / slice.Count;
            for (int r = 0; r < slice.Count; r++)
            {
                int rowLength = shape.Length == 3 ? slice[r].InputIds.Length * (int)shape[2] : (int)perRow;
                consume(start + r, logits.AsSpan((int)(r * perRow), rowLength).ToArray());
            }
        }
    }

    /// <summary>Class probabilities per row (softmax of the logits; sums to 1).</summary>
    public float[][] Classify(IReadOnlyList<(int[] InputIds, int[] TokenTypeIds)> sequences)
    {
        var result = new float[sequences.Count][];
        Run(sequences, (row, logits) => result[row] = Softmax(logits));
        return result;
    }

    public static float[] Softmax(float[] logits)
    {
        float max = logits.Max();
        var exp = logits.Select(v => MathF.Exp(v - max)).ToArray();
        float sum = exp.Sum();
        for (int i = 0; i < exp.Length; i++)
            exp[i] /= sum;
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
