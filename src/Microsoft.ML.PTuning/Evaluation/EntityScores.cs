namespace Microsoft.ML.PTuning.Evaluation;

/// <summary>The ratios behind entity metrics, with seqeval's convention that 0/0 is 0.</summary>
internal static class EntityScores
{
    internal static double Ratio(int numerator, int denominator) =>
        denominator > 0 ? (double)numerator / denominator : 0.0;

    internal static double F1(double precision, double recall) =>
        precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
}
