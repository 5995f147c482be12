using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

/// <summary>
/// Numbers passed to libtorch as <see cref="Scalar"/>s that stay alive until the operation that reads them returns.
/// </summary>
/// <remarks>
/// TorchSharp 0.107 turns a number operand (<c>x.mul(0.5)</c>, <c>0.5 * x</c>, <c>x.masked_fill(m, 0)</c>) into a
/// temporary <see cref="Scalar"/> whose native memory only its finalizer frees. Once the call has read the Scalar's
/// handle, nothing references it; a garbage collection that another thread triggers during the native call can then
/// finalize it while libtorch still reads it. Full fine-tuning hit this (2026-12-07): libtorch's
/// <c>c10::Scalar::toFloat</c> failed its tag check ("Expected false to be true") in the dropout's <c>masked_fill</c>,
/// seconds into training beside a thread that allocated every 20 ms, and the process aborted. (TorchSharp's open pull
/// requests #1434 and #1496 dispose such Scalars inside TorchSharp.) The modules therefore hold their Scalars: constants
/// in static fields (rooted for the process), per-module values in fields, per-call values through <see cref="With(long, Func{Scalar, Tensor})"/>,
/// which disposes the Scalar only after the operation has returned.
/// </remarks>
internal static class ScalarOperand
{
    public static readonly Scalar ZeroInt = 0.ToScalar();
    public static readonly Scalar OneInt = 1.ToScalar();
    public static readonly Scalar One = 1.0.ToScalar();

    /// <summary>Runs <paramref name="operation"/> on <paramref name="value"/> as an Int64 Scalar, freed after it returns.</summary>
    public static Tensor With(long value, Func<Scalar, Tensor> operation)
    {
        using Scalar scalar = value.ToScalar();
        return operation(scalar);
    }

    /// <summary>Runs <paramref name="operation"/> on <paramref name="value"/> as a Float64 Scalar, freed after it returns.</summary>
    public static Tensor With(double value, Func<Scalar, Tensor> operation)
    {
        using Scalar scalar = value.ToScalar();
        return operation(scalar);
    }

    /// <summary>Runs <paramref name="operation"/> on two Int64 Scalars, freed after it returns.</summary>
    public static Tensor With(long first, long second, Func<Scalar, Scalar, Tensor> operation)
    {
        using Scalar a = first.ToScalar();
        using Scalar b = second.ToScalar();
        return operation(a, b);
    }
}
