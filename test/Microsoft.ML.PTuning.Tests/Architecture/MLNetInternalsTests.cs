using Mono.Cecil;
using Mono.Cecil.Cil;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Architecture;

/// <summary>
/// The library compiles against publicized copies of Microsoft.ML.Core and Microsoft.ML.Data (build/Publicizer), so the
/// compiler cannot tell whether an internal member it binds to exists in the ML.NET that apps load: a different ML.NET
/// would fail at run time (MissingMethodException at save or load). This reads every reference the built library makes
/// into ML.NET's assemblies (its IL's type and member references) and resolves each, signature included, in the real
/// assemblies deployed beside the tests (those of the pinned Microsoft.ML package).
/// </summary>
public class MLNetInternalsTests
{
    [Fact]
    public void EveryMLNetMemberTheLibraryUsesExistsInTheReferencedMLNet()
    {
        using var resolver = RealMLNetResolver();
        using var library = ModuleDefinition.ReadModule(typeof(TuningMethod).Assembly.Location, new ReaderParameters { AssemblyResolver = resolver });

        var (missing, internals) = Check(library);

        Console.WriteLine("ML.NET internals the library uses:\n" + string.Join("\n", internals));
        Assert.True(missing.Count == 0,
            "ML.NET members the library uses that the deployed Microsoft.ML assemblies lack (the pinned version in "
            + "Directory.Packages.props no longer matches the code, see docs/MLNET-INTERNALS.md):\n" + string.Join("\n", missing));
        // The zip code's internals are among them, so the scan does see the publicized references.
        Assert.Contains("Microsoft.ML.Core: Microsoft.ML.ModelSaveContext::SaveBinaryStream", internals);
        Assert.Contains("Microsoft.ML.Core: Microsoft.ML.ModelLoadContext::CheckAtModel", internals);
        Assert.Contains("Microsoft.ML.Core: Microsoft.ML.LoadableClassAttribute::.ctor", internals);
    }

    [Fact]
    public void EveryInternalTypeUsedIsListedInTheInternalsDoc()
    {
        using var resolver = RealMLNetResolver();
        using var library = ModuleDefinition.ReadModule(typeof(TuningMethod).Assembly.Location, new ReaderParameters { AssemblyResolver = resolver });
        string doc = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "docs", "MLNET-INTERNALS.md"));

        var types = Check(library).Internals.Select(i => i[(i.IndexOf(' ') + 1)..].Split("::")[0]).Select(t => t[(t.LastIndexOf('.') + 1)..].Split('/')[0].Split('`')[0]).ToHashSet();
        var unlisted = types.Where(t => !doc.Contains($"`{t}", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();

        Assert.True(unlisted.Count == 0, "internal ML.NET types the library uses that docs/MLNET-INTERNALS.md does not name: " + string.Join(", ", unlisted));
    }

    [Fact]
    public void AMemberMissingFromMLNetIsReported()
    {
        // A module that calls ModelSaveContext.NoSuchMethod(), and reads a field ModelLoadContext has under another name.
        using var resolver = RealMLNetResolver();
        var core = resolver.Resolve(new AssemblyNameReference("Microsoft.ML.Core", null)).MainModule;
        var saveContext = core.GetType("Microsoft.ML.ModelSaveContext");
        var loadContext = core.GetType("Microsoft.ML.ModelLoadContext");
        using var probe = ModuleDefinition.CreateModule("Probe", new ModuleParameters { Kind = ModuleKind.Dll, AssemblyResolver = resolver });
        var type = new TypeDefinition("Probe", "Calls", Mono.Cecil.TypeAttributes.Public | Mono.Cecil.TypeAttributes.Class, probe.TypeSystem.Object);
        probe.Types.Add(type);
        var method = new MethodDefinition("Run", Mono.Cecil.MethodAttributes.Public | Mono.Cecil.MethodAttributes.Static, probe.TypeSystem.Void);
        type.Methods.Add(method);
        var il = method.Body.GetILProcessor();
        il.Emit(OpCodes.Ldnull);
        il.Emit(OpCodes.Call, new MethodReference("NoSuchMethod", probe.TypeSystem.Void, probe.ImportReference(saveContext)) { HasThis = true });
        il.Emit(OpCodes.Ldnull);
        il.Emit(OpCodes.Ldfld, new FieldReference("NoSuchField", probe.TypeSystem.Int32, probe.ImportReference(loadContext)));
        il.Emit(OpCodes.Pop);
        il.Emit(OpCodes.Call, probe.ImportReference(saveContext.Methods.First(m => m.Name == "CheckAtModel")));
        il.Emit(OpCodes.Ret);
        using var written = new MemoryStream();
        probe.Write(written);
        written.Position = 0;
        using var read = ModuleDefinition.ReadModule(written, new ReaderParameters { AssemblyResolver = resolver });

        var (missing, internals) = Check(read);

        Assert.Equal(
            ["Microsoft.ML.Core: System.Int32 Microsoft.ML.ModelLoadContext::NoSuchField", "Microsoft.ML.Core: System.Void Microsoft.ML.ModelSaveContext::NoSuchMethod()"],
            missing);
        Assert.Equal(["Microsoft.ML.Core: Microsoft.ML.ModelLoadContext", "Microsoft.ML.Core: Microsoft.ML.ModelSaveContext::CheckAtModel"], internals);
    }

    /// <summary>
    /// The references of <paramref name="module"/> into Microsoft.ML's assemblies that do not resolve (with their full
    /// signature), and those that resolve to a non-public type or member ("assembly: Type::Member").
    /// </summary>
    private static (List<string> Missing, List<string> Internals) Check(ModuleDefinition module)
    {
        var missing = new SortedSet<string>(StringComparer.Ordinal);
        var internals = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in module.GetTypeReferences().Where(t => IsMLNet(t.Scope)))
        {
            var resolved = type.Resolve();
            if (resolved is null)
                missing.Add($"{type.Scope.Name}: {type.FullName}");
            else if (!IsVisible(resolved))
                internals.Add($"{type.Scope.Name}: {resolved.FullName}");
        }
        foreach (var member in module.GetMemberReferences().Where(m => IsMLNet(m.DeclaringType.GetElementType().Scope)))
        {
            string assembly = member.DeclaringType.GetElementType().Scope.Name;
            IMemberDefinition? resolved = member switch
            {
                MethodReference method => method.Resolve(),
                FieldReference field => field.Resolve(),
                _ => null,
            };
            if (resolved is null)
                missing.Add($"{assembly}: {member.FullName}");
            else if (!IsVisible(resolved.DeclaringType) || !IsCallable(resolved))
                internals.Add($"{assembly}: {resolved.DeclaringType.FullName}::{resolved.Name}");
        }
        return (missing.ToList(), internals.ToList());
    }

    private static bool IsMLNet(IMetadataScope scope) =>
        scope is AssemblyNameReference { Name: var name } && name.StartsWith("Microsoft.ML", StringComparison.Ordinal) && name != "Microsoft.ML.PTuning";

    /// <summary>Callable from outside ML.NET: public, or protected (reachable from a derived type).</summary>
    private static bool IsCallable(IMemberDefinition member) => member switch
    {
        MethodDefinition m => m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly,
        FieldDefinition f => f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly,
        _ => false,
    };

    /// <summary>Visible outside ML.NET: public, or nested public or protected (reachable from a derived type) in a visible type.</summary>
    private static bool IsVisible(TypeDefinition type) =>
        type.IsPublic || ((type.IsNestedPublic || type.IsNestedFamily || type.IsNestedFamilyOrAssembly) && IsVisible(type.DeclaringType));

    /// <summary>Resolves only from the test output folder: the real ML.NET assemblies, never the publicized copies.</summary>
    private static DefaultAssemblyResolver RealMLNetResolver()
    {
        var resolver = new DefaultAssemblyResolver();
        foreach (string directory in resolver.GetSearchDirectories())
            resolver.RemoveSearchDirectory(directory);
        resolver.AddSearchDirectory(AppContext.BaseDirectory);
        resolver.AddSearchDirectory(Path.GetDirectoryName(typeof(object).Assembly.Location)!);
        string core = Path.Combine(AppContext.BaseDirectory, "Microsoft.ML.Core.dll");
        Assert.True(File.Exists(core), $"expected the real Microsoft.ML.Core.dll beside the tests at '{core}'");
        // The publicized copy has every type public; the real assembly keeps ModelLoadContext internal.
        var real = resolver.Resolve(new AssemblyNameReference("Microsoft.ML.Core", null)).MainModule.GetType("Microsoft.ML.ModelLoadContext");
        Assert.True(real is { IsPublic: false }, $"'{core}' is not ML.NET's own Microsoft.ML.Core (ModelLoadContext is missing or public)");
        return resolver;
    }
}
