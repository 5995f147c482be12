using Microsoft.ML.PTuning.Modeling;

namespace Microsoft.ML.PTuning.Benchmarks;

/// <summary>
/// Matmul FLOPs one training step needs (multiply-add = 2 FLOPs; element-wise work, softmax and LayerNorm not counted),
/// for B sequences of T tokens through L layers of hidden size H and FFN size F, with a prompt of Q vectors (prompt
/// tuning; S = T + Q rows per sequence) and a prefix of P key/value vectors per layer (K = S + P keys).
/// <list type="bullet">
/// <item>Forward, per layer: linear <c>Lin = 2·B·S·(4H² + 2HF)</c> (Q, K, V, output, two FFN matrices); attention
/// <c>Att = 4·B·S·K·H</c> (QKᵀ and AV). Head: <c>2·B·(H² + H·C)</c> (pooler + classifier).</item>
/// <item>Activation gradients (only where something upstream trains): a linear layer's input gradient costs its forward;
/// attention's costs twice its forward (both operands of both products). Prefix tuning needs them in every layer except
/// the input gradient of layer 0's Q/K/V projections (nothing below them trains); prompt tuning and full fine-tuning
/// need them everywhere; the linear probe needs none (the encoder runs without a graph).</item>
/// <item>Weight gradients: a trained linear layer's costs its forward. Every method trains the classifier; full
/// fine-tuning trains every encoder matrix and the pooler.</item>
/// </list>
/// </summary>
internal static class TrainingFlops
{
    public static double PerStep(EncoderConfig config, TuningMethod method, int batch, int tokens, int prefixOrPromptLength, int classes)
    {
        double b = batch, h = config.HiddenSize, f = config.IntermediateSize, layers = config.NumHiddenLayers, c = classes;
        double prompt = method == TuningMethod.PromptTuning ? prefixOrPromptLength : 0;
        double prefix = method == TuningMethod.PrefixTuning ? prefixOrPromptLength : 0;
        double s = tokens + prompt, k = s + prefix;
        double linear = 2 * b * s * (4 * h * h + 2 * h * f);
        double attention = 4 * b * s * k * h;
        double qkvInputGradient = 2 * b * s * 3 * h * h;
        double pooler = 2 * b * h * h, classifier = 2 * b * h * c;

        double forward = layers * (linear + attention) + pooler + classifier;
        double activationGradients = method switch
        {
            TuningMethod.LinearProbe => 0,
            TuningMethod.PrefixTuning => layers * (linear + 2 * attention) - qkvInputGradient + pooler,
            _ => layers * (linear + 2 * attention) + pooler,
        };
        double weightGradients = classifier + (method == TuningMethod.FullFineTuning ? layers * linear + pooler : 0);
        return forward + activationGradients + weightGradients;
    }
}
