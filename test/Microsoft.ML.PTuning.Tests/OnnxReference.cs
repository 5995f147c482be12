using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.PTuning.Samples;

namespace Microsoft.ML.PTuning.Tests;

/// <summary>ONNX Runtime on an ONNX encoder: an implementation independent of ours, for parity tests.</summary>
public static class OnnxReference
{
    private static readonly Lazy<InferenceSession> MiniLMSession = new(() => CreateSession(MiniLM.OnnxBytes()));

    /// <summary>A CPU session with a fixed thread count, so repeated runs give identical numbers.</summary>
    public static InferenceSession CreateSession(byte[] onnxModel)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 2, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        return new InferenceSession(onnxModel, options);
    }

    /// <summary>all-MiniLM-L6-v2's <c>last_hidden_state</c> [B, T, 384] for a padded batch (each argument [B, T]).</summary>
    public static float[,,] LastHiddenState(long[,] inputIds, long[,] attentionMask, long[,] tokenTypeIds) =>
        Run(MiniLMSession.Value, inputIds, attentionMask, tokenTypeIds, "last_hidden_state");

    /// <summary>Runs an encoder session on input_ids / attention_mask / token_type_ids and returns one [B, T, H] float output.</summary>
    public static float[,,] Run(InferenceSession session, long[,] inputIds, long[,] attentionMask, long[,] tokenTypeIds, string outputName)
    {
        int batch = inputIds.GetLength(0), length = inputIds.GetLength(1);
        foreach ((string name, long[,] values) in new[] { ("attention_mask", attentionMask), ("token_type_ids", tokenTypeIds) })
        {
            if (values.GetLength(0) != batch || values.GetLength(1) != length)
            {
                throw new ArgumentException($"{name} is [{values.GetLength(0)},{values.GetLength(1)}]; input_ids is [{batch},{length}].", name);
            }
        }
        NamedOnnxValue Input(string name, long[,] values) =>
            NamedOnnxValue.CreateFromTensor(name, new DenseTensor<long>(values.Cast<long>().ToArray(), new[] { batch, length }));
        var inputs = new List<NamedOnnxValue> { Input("input_ids", inputIds), Input("attention_mask", attentionMask), Input("token_type_ids", tokenTypeIds) };
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = session.Run(inputs, new[] { outputName });
        Tensor<float> output = results.Single().AsTensor<float>();
        if (output.Rank != 3 || output.Dimensions[0] != batch || output.Dimensions[1] != length)
        {
            throw new InvalidOperationException($"Output '{outputName}' is [{string.Join(",", output.Dimensions.ToArray())}]; [{batch},{length},H] was expected.");
        }
        int hidden = output.Dimensions[2];
        var result = new float[batch, length, hidden];
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < length; t++)
            {
                for (int h = 0; h < hidden; h++)
                {
                    result[b, t, h] = output[b, t, h];
                }
            }
        }
        return result;
    }
}
