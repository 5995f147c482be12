// The runtime (CoreCLR) honours this attribute when an assembly declares it: the named assemblies' non-public
// members become accessible to this one. Together with the publicized compile-time references written by
// build/Publicizer it gives the library the few ML.NET internals the model zip needs (docs/MLNET-INTERNALS.md).
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Data")]

namespace System.Runtime.CompilerServices;

/// <summary>Declares an assembly whose access checks the runtime skips for this assembly.</summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
internal sealed class IgnoresAccessChecksToAttribute : Attribute
{
    public IgnoresAccessChecksToAttribute(string assemblyName) => AssemblyName = assemblyName;

    public string AssemblyName { get; }
}
