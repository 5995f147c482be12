using System.Text.RegularExpressions;
using Mono.Cecil;
using Mono.Cecil.Cil;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Architecture;

/// <summary>
/// The library's layering: each stage is a folder of src/Microsoft.ML.PTuning/ and uses only the stages beneath it, so a
/// stage can be read, tested and rewritten without the ones above. Namespaces do not say the layer (public types keep
/// the namespace users import), so types are mapped to folders through their source files and checked in the built IL.
/// </summary>
public class LayerDependencyTests
{
    private const string Vocabulary = "Vocabulary", Contracts = "Contracts", Catalog = "Catalog";

    /// <summary>Every layer, lowest first; the top layers' rules are written as "all of these but ...".</summary>
    private static readonly string[] Layers =
        [Vocabulary, "Properties", "Tokenization", "Evaluation", "Data", "Modeling", "Checkpoints", "Runtime", "Training",
         "Persistence", Contracts, "Transforms", "Sweeps", Catalog];

    /// <summary>Each layer and the layers it may use besides itself; anything else is a violation.</summary>
    private static readonly Dictionary<string, string[]> MayUse = new()
    {
        // The enums every stage speaks (TuningMethod, TaskKind, ComputePrecision, PoolingMode): shared words, so they depend on nothing.
        [Vocabulary] = [],
        // The runtime reads the access-check attribute; no code of the library is behind it.
        ["Properties"] = [],
        // Text to ids: no tensors, models or data views, so it can be checked against Hugging Face on its own.
        ["Tokenization"] = [],
        // Entity metrics are arithmetic over tag sequences, usable by training and by users alike.
        ["Evaluation"] = [],
        // Readers for users' files (CoNLL, CSV): they hand out rows and know no model.
        ["Data"] = [],
        // Modeling knows tensors, not files or data views.
        ["Modeling"] = [Vocabulary],
        // Checkpoint files become Modeling's modules; nothing here runs or trains them.
        ["Checkpoints"] = ["Modeling", Vocabulary],
        // Inference (Runtime) never uses Training: a loaded model runs without the trainer.
        ["Runtime"] = ["Tokenization", "Modeling", "Checkpoints", Vocabulary],
        // The loop drives the runtime's model and scores with Evaluation; it reports through its own types, not the public face.
        ["Training"] = ["Runtime", "Tokenization", "Modeling", "Evaluation", Vocabulary],
        // The model zip holds what inference needs, never training state.
        ["Persistence"] = ["Runtime", "Checkpoints", "Tokenization", "Modeling", Vocabulary],
        // Options and progress are plain data users fill in and read: they must not pull internals into the public face.
        [Contracts] = [Vocabulary],
        // The ML.NET estimators and transformers assemble the stages; sweeps and catalogs are built on them.
        ["Transforms"] = Except("Sweeps", Catalog),
        // A sweep trains many transforms; only the catalogs sit above it.
        ["Sweeps"] = Except(Catalog),
        // The catalogs are the entry points users call, so they may reach everything.
        [Catalog] = Except(),
    };

    private static string[] Except(params string[] layers) => Layers.Except(layers).ToArray();

    /// <summary>The folder is the layer; root files split into the vocabulary, the catalogs and the contracts.</summary>
    private static string LayerOf(string file) =>
        file.Contains('/') ? file[..file.IndexOf('/')]
        : file is "TuningMethod.cs" or "TaskKind.cs" or "ComputePrecision.cs" or "PoolingMode.cs" ? Vocabulary
        : file.EndsWith("Catalog.cs", StringComparison.Ordinal) || file.EndsWith("CatalogExtensions.cs", StringComparison.Ordinal) ? Catalog
        : Contracts;

    [Fact]
    public void EachLayerUsesOnlyTheLayersItMay()
    {
        var layerOf = new Dictionary<string, string>();
        var unmapped = new SortedSet<string>(StringComparer.Ordinal);
        void Map(string fullName, string layer)
        {
            if (!layerOf.TryAdd(fullName, layer) && layerOf[fullName] != layer)
            {
                unmapped.Add($"{fullName} is declared in two layers ({layerOf[fullName]}, {layer})");
            }
        }

        foreach (Declaration declaration in Declarations())
        {
            Map(declaration.FullName, LayerOf(declaration.File));
        }

        using ModuleDefinition library = ModuleDefinition.ReadModule(typeof(TuningMethod).Assembly.Location);
        foreach ((string file, string? generatedNamespace) in ProtoFiles())
        {
            if (generatedNamespace is null)
            {
                unmapped.Add($"{file} sets no csharp_namespace option, so the types protoc generates from it cannot be mapped to its folder");
                continue;
            }

            // The namespace is the .proto's alone: a hand-written type in it from another folder is declared in two layers.
            library.Types.Where(t => t.Namespace == generatedNamespace).ToList().ForEach(t => Map(t.FullName, LayerOf(file)));
        }

        unmapped.UnionWith(layerOf.Values.Distinct().Where(l => !MayUse.ContainsKey(l)).Select(l => $"layer {l} has no rule in the table"));
        var violations = new SortedSet<string>(StringComparer.Ordinal);
        foreach (TypeDefinition type in library.Types)
        {
            if (!layerOf.TryGetValue(type.FullName, out string? from))
            {
                // Types the compiler adds (<Module>, <PrivateImplementationDetails>, generated regexes) have '<' in their names.
                if (!type.Name.Contains('<'))
                {
                    unmapped.Add($"{type.FullName} is in the library, but no source file declares it (the declaration scan missed it)");
                }

                continue;
            }

            foreach (string used in LibraryTypesUsedBy(type))
            {
                if (layerOf.TryGetValue(used, out string? to) && to != from && MayUse.TryGetValue(from, out string[]? may) && !may.Contains(to))
                {
                    violations.Add($"{from}/{type.Name} -> {to}/{used[(used.LastIndexOf('.') + 1)..]}");
                }
            }
        }

        Assert.True(unmapped.Count == 0 && violations.Count == 0,
            (unmapped.Count == 0 ? "" : "The type-to-layer map is incomplete:\n  " + string.Join("\n  ", unmapped) + "\n") +
            $"{violations.Count} references break the layering (Layer/Type -> Layer/Type; see the table in this test):\n  " + string.Join("\n  ", violations));
    }

    [Fact]
    public void RootHoldsOnlyThePublicFace()
    {
        Declaration[] root = Declarations().Where(d => !d.File.Contains('/')).ToArray();
        string[] files = SourceFiles().Where(f => !f.Contains('/')).ToArray();
        Assert.True(files.Length <= 10, $"The library root holds {files.Length} .cs files (at most 10): {string.Join(", ", files)}");
        string[] internals = root.Where(d => !d.IsPublic).Select(d => $"{d.File} ({d.Name})").ToArray();
        Assert.True(internals.Length == 0, "The root is the public face; move these to their stage's folder: " + string.Join(", ", internals));
    }

    [Fact]
    public void EachFileDeclaresOneTopLevelType()
    {
        ILookup<string, Declaration> byFile = Declarations().ToLookup(d => d.File);
        string[] offenders = SourceFiles().Where(f => byFile[f].Count() != 1)
            .Select(f => $"{f}: {(byFile[f].Any() ? string.Join(", ", byFile[f].Select(d => d.Name)) : "no type")}").ToArray();
        Assert.True(offenders.Length == 0, "Files should declare exactly one top-level type:\n  " + string.Join("\n  ", offenders));
    }

    private sealed record Declaration(string File, string Name, string FullName, bool IsPublic);

    private static readonly Regex NamespaceLine = new(@"^namespace\s+(?<name>[\w.]+)", RegexOptions.Multiline);

    private static readonly Regex TypeLine = new(
        @"^(?<indent>[ \t]*)(?<modifiers>(?:(?:public|internal|file|abstract|sealed|static|partial|readonly|unsafe|ref)\s+)*)" +
        @"(?:record\s+struct|record\s+class|class|record|struct|enum|interface|delegate\s+[\w.<>\[\]?,]+)\s+(?<name>\w+)(?:\s*<(?<parameters>[^>]*)>)?",
        RegexOptions.Multiline);

    /// <summary>The library's .cs files, relative to its folder with '/' separators; build outputs excluded.</summary>
    private static IEnumerable<string> SourceFiles() => LibraryFiles("*.cs");

    private static IEnumerable<string> LibraryFiles(string pattern) =>
        Directory.EnumerateFiles(TestPaths.LibrarySourceFolder, pattern, SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(TestPaths.LibrarySourceFolder, f).Replace('\\', '/'))
            .Where(f => !f.StartsWith("bin/", StringComparison.Ordinal) && !f.StartsWith("obj/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

    private static readonly Regex CSharpNamespaceOption = new(@"^option\s+csharp_namespace\s*=\s*""(?<name>[\w.]+)""\s*;", RegexOptions.Multiline);

    /// <summary>
    /// The library's .proto files and the namespace each one's csharp_namespace option gives the C# classes protoc
    /// generates from it at build time. Those classes are written to obj/, where no scanned source file declares them,
    /// so the .proto is their source file: they belong to its folder's layer (Checkpoints/Onnx/onnx_import.proto: the
    /// ONNX importer's messages are Checkpoints types).
    /// </summary>
    private static IEnumerable<(string File, string? Namespace)> ProtoFiles() =>
        LibraryFiles("*.proto").Select(f => (f, CSharpNamespaceOption.Match(File.ReadAllText(Path.Combine(TestPaths.LibrarySourceFolder, f))) is { Success: true } m
            ? m.Groups["name"].Value
            : null));

    /// <summary>
    /// The top-level types each file declares, named as in IL (Namespace.Name`arity). Top-level means least indented:
    /// column 0 under a file-scoped namespace, one level in under a block one; nested types sit deeper.
    /// </summary>
    private static IEnumerable<Declaration> Declarations()
    {
        foreach (string file in SourceFiles())
        {
            string text = File.ReadAllText(Path.Combine(TestPaths.LibrarySourceFolder, file));
            Match[] types = TypeLine.Matches(text).ToArray();
            int indent = types.Length == 0 ? 0 : types.Min(m => m.Groups["indent"].Length);
            foreach (Match type in types.Where(m => m.Groups["indent"].Length == indent))
            {
                Match ns = NamespaceLine.Matches(text[..type.Index]).LastOrDefault() ?? Match.Empty;
                string name = type.Groups["name"].Value;
                int arity = type.Groups["parameters"].Success ? type.Groups["parameters"].Value.Split(',').Length : 0;
                string fullName = (ns.Success ? ns.Groups["name"].Value + "." : "") + name + (arity > 0 ? $"`{arity}" : "");
                yield return new Declaration(file, name, fullName, type.Groups["modifiers"].Value.Contains("public", StringComparison.Ordinal));
            }
        }
    }

    /// <summary>Full names of the library's top-level types that a type, its nested types and its lambdas' closures use anywhere.</summary>
    private static HashSet<string> LibraryTypesUsedBy(TypeDefinition outermost)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (TypeDefinition type in WithNested(outermost))
        {
            MethodDefinition[] methods = type.Methods.ToArray();
            GenericParameter[] generics = [.. type.GenericParameters, .. methods.SelectMany(m => m.GenericParameters)];
            ICustomAttributeProvider[] annotated = [type, .. type.Interfaces, .. type.Fields, .. type.Properties, .. type.Events, .. methods,
                .. methods.Select(m => m.MethodReturnType), .. methods.SelectMany(m => m.Parameters), .. generics];
            TypeReference?[] declared = [type.BaseType, .. type.Interfaces.Select(i => i.InterfaceType), .. type.Fields.Select(f => f.FieldType),
                .. type.Properties.Select(p => p.PropertyType), .. type.Events.Select(e => e.EventType),
                .. generics.SelectMany(g => g.Constraints).Select(c => c.ConstraintType),
                .. annotated.SelectMany(a => a.CustomAttributes).SelectMany(AttributeTypes)];
            declared.ToList().ForEach(Use);
            foreach (MethodDefinition method in methods)
            {
                Called(method);
                method.Overrides.ToList().ForEach(Called);
                if (!method.HasBody)
                {
                    continue;
                }

                method.Body.Variables.Select(v => v.VariableType).Concat(method.Body.ExceptionHandlers.Select(h => h.CatchType)).ToList().ForEach(Use);
                foreach (Instruction instruction in method.Body.Instructions)
                {
                    switch (instruction.Operand)
                    {
                        case TypeReference operand:
                            Use(operand);
                            break;
                        case MethodReference operand:
                            Called(operand);
                            break;
                        case FieldReference operand:
                            Use(operand.DeclaringType);
                            Use(operand.FieldType);
                            break;
                        case CallSite operand:
                            Signature(operand);
                            break;
                    }
                }
            }
        }

        return used;

        void Called(MethodReference method)
        {
            Use(method.DeclaringType);
            Signature(method);
            (method as GenericInstanceMethod)?.GenericArguments.ToList().ForEach(Use);
        }

        void Signature(IMethodSignature signature)
        {
            Use(signature.ReturnType);
            signature.Parameters.ToList().ForEach(p => Use(p.ParameterType));
        }

        // Arrays, pointers, by-refs and generic instances are looked through to the types they are built from.
        void Use(TypeReference? type)
        {
            switch (type)
            {
                case null or GenericParameter:
                    return;
                case GenericInstanceType generic:
                    Use(generic.ElementType);
                    generic.GenericArguments.ToList().ForEach(Use);
                    return;
                case IModifierType modified:
                    Use(modified.ModifierType);
                    Use(modified.ElementType);
                    return;
                case FunctionPointerType pointer:
                    Signature(pointer);
                    return;
                case TypeSpecification specification:
                    Use(specification.ElementType);
                    return;
            }

            if (type.Scope == outermost.Module)
            {
                while (type.DeclaringType is not null)
                {
                    type = type.DeclaringType;
                }

                used.Add(type.FullName);
            }
        }
    }

    private static IEnumerable<TypeDefinition> WithNested(TypeDefinition type) => type.NestedTypes.SelectMany(WithNested).Prepend(type);

    /// <summary>An attribute's own type and every type among its arguments: typeof() values and the arguments' types (enums).</summary>
    private static IEnumerable<TypeReference> AttributeTypes(CustomAttribute attribute) =>
        attribute.ConstructorArguments.Concat(attribute.Fields.Concat(attribute.Properties).Select(n => n.Argument))
            .SelectMany(ArgumentTypes).Prepend(attribute.AttributeType);

    private static IEnumerable<TypeReference> ArgumentTypes(CustomAttributeArgument argument) => argument.Value switch
    {
        TypeReference type => [argument.Type, type],
        CustomAttributeArgument boxed => ArgumentTypes(boxed).Prepend(argument.Type),
        CustomAttributeArgument[] items => items.SelectMany(ArgumentTypes).Prepend(argument.Type),
        _ => [argument.Type],
    };
}
