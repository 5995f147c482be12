using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

/// <summary>
/// Per-layer attention keys and values that every layer prepends to its own (a deep prefix, P-Tuning v2).
/// </summary>
/// <remarks>
/// Layout as P-Tuning v2 produces it: one tensor <c>[2L, B, heads, P, head_dim]</c> where index <c>2i</c> is layer i's
/// key and <c>2i + 1</c> its value (the order <c>split(2)</c> yields).
/// </remarks>
public sealed class PastKeyValues
{
    /// <summary>Wraps a <c>[2L, B, heads, P, head_dim]</c> tensor.</summary>
    /// <exception cref="ArgumentException">The tensor is not 5-dimensional or its first dimension is odd.</exception>
    public PastKeyValues(Tensor keyValues)
    {
        ArgumentNullException.ThrowIfNull(keyValues);
        if (keyValues.dim() != 5 || keyValues.shape[0] % 2 != 0)
        {
            throw new ArgumentException(
                $"Prefix keys/values must have shape [2L, B, heads, P, head_dim]; got [{string.Join(", ", keyValues.shape)}].",
                nameof(keyValues));
        }

        KeyValues = keyValues;
    }

    /// <summary>The <c>[2L, B, heads, P, head_dim]</c> tensor.</summary>
    public Tensor KeyValues { get; }

    /// <summary>Number of layers L covered.</summary>
    public int LayerCount => (int)(KeyValues.shape[0] / 2);

    /// <summary>Batch size B.</summary>
    public long BatchSize => KeyValues.shape[1];

    /// <summary>Prefix length P (positions every layer attends to before the tokens).</summary>
    public int Length => (int)KeyValues.shape[3];

    /// <summary>Layer <paramref name="layer"/>'s prefix keys, <c>[B, heads, P, head_dim]</c>.</summary>
    public Tensor Key(int layer) => KeyValues[2 * layer];

    /// <summary>Layer <paramref name="layer"/>'s prefix values, <c>[B, heads, P, head_dim]</c>.</summary>
    public Tensor Value(int layer) => KeyValues[2 * layer + 1];
}
