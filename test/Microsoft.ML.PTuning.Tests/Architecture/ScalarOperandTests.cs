using Mono.Cecil;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Tests.Architecture;

/// <summary>
/// TorchSharp frees a Scalar made from a number (<c>x.mul(0.5)</c>, <c>0.5 * x</c>) in its finalizer, which can run
/// while libtorch still reads it (src/Microsoft.ML.PTuning/Modeling/ScalarOperand.cs). This reads the built library's
/// IL and fails on every call that makes such a temporary: an implicit conversion to <see cref="Scalar"/> or a Tensor
/// operator with a number operand.
/// </summary>
public class ScalarOperandTests
{
    [Fact]
    public void TheLibraryPassesNoTemporaryScalarToLibtorch()
    {
        using var library = ModuleDefinition.ReadModule(typeof(TuningMethod).Assembly.Location);

        var temporaries = TemporaryScalars(library);

        Assert.True(temporaries.Count == 0,
            "calls that turn a number into a temporary TorchSharp Scalar (hold it instead, see Modeling/ScalarOperand):\n" + string.Join("\n", temporaries));
    }

    [Fact]
    public void TheScanFindsATemporaryScalar()
    {
        using var tests = ModuleDefinition.ReadModule(typeof(ScalarOperandTests).Assembly.Location);

        var temporaries = TemporaryScalars(tests);

        Assert.Contains(temporaries, t => t.StartsWith($"{nameof(ScalarOperandTests)}::{nameof(ImplicitConversion)} ", StringComparison.Ordinal));
        Assert.Contains(temporaries, t => t.StartsWith($"{nameof(ScalarOperandTests)}::{nameof(OperatorWithANumber)} ", StringComparison.Ordinal));
        Assert.DoesNotContain(temporaries, t => t.Contains(nameof(HeldScalar), StringComparison.Ordinal));
    }

    // What the scan must find, and what it must not.
    private static Tensor ImplicitConversion(Tensor x) => x.mul(0.5);

    private static Tensor OperatorWithANumber(Tensor x) => 0.5 * x;

    private static Tensor HeldScalar(Tensor x, Scalar half) => x.mul(half);

    /// <summary>"Type::Method callee" for each call in <paramref name="module"/> that makes a temporary Scalar.</summary>
    private static List<string> TemporaryScalars(ModuleDefinition module)
    {
        var found = new List<string>();
        foreach (var type in module.GetTypes())
        {
            foreach (var method in type.Methods.Where(m => m.HasBody))
            {
                foreach (var instruction in method.Body.Instructions)
                {
                    if (instruction.Operand is MethodReference callee && MakesTemporaryScalar(callee))
                        found.Add($"{type.Name}::{method.Name} {callee.DeclaringType.Name}.{callee.Name}({string.Join(", ", callee.Parameters.Select(p => p.ParameterType.Name))})");
                }
            }
        }
        return found;
    }

    private static readonly HashSet<string> Numbers = ["System.Byte", "System.SByte", "System.Int16", "System.Int32", "System.Int64", "System.Single", "System.Double", "System.Boolean"];

    private static bool MakesTemporaryScalar(MethodReference callee)
    {
        string owner = callee.DeclaringType.FullName;
        if (owner == "TorchSharp.Scalar")
            return callee.Name == "op_Implicit";
        return owner == "TorchSharp.torch/Tensor" && callee.Name.StartsWith("op_", StringComparison.Ordinal)
            && callee.Parameters.Any(p => Numbers.Contains(p.ParameterType.FullName));
    }
}
