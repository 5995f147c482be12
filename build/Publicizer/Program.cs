// Usage: Publicizer <input.dll> <output.dll> [<input.dll> <output.dll> ...]
// Makes every type, method and field of each input public and writes the result. The copies serve as compile-time
// reference assemblies only; the runtime loads the real, signed assemblies and honours IgnoresAccessChecksTo.
using Mono.Cecil;

if (args.Length == 0 || args.Length % 2 != 0)
{
    Console.Error.WriteLine("usage: Publicizer <input.dll> <output.dll> [<input.dll> <output.dll> ...]");
    return 2;
}

for (int i = 0; i < args.Length; i += 2)
{
    string input = args[i], output = args[i + 1];
    if (!File.Exists(input))
    {
        Console.Error.WriteLine($"Publicizer: input assembly '{input}' does not exist");
        return 1;
    }

    var resolver = new DefaultAssemblyResolver();
    resolver.AddSearchDirectory(Path.GetDirectoryName(Path.GetFullPath(input))!);
    using var assembly = AssemblyDefinition.ReadAssembly(input, new ReaderParameters { AssemblyResolver = resolver });
    int changed = 0;
    foreach (TypeDefinition type in assembly.MainModule.GetTypes())
    {
        TypeAttributes visibility = type.IsNested ? TypeAttributes.NestedPublic : TypeAttributes.Public;
        if ((type.Attributes & TypeAttributes.VisibilityMask) != visibility)
        {
            type.Attributes = (type.Attributes & ~TypeAttributes.VisibilityMask) | visibility;
            changed++;
        }
        foreach (MethodDefinition method in type.Methods)
        {
            if (!method.IsPublic)
            {
                method.Attributes = (method.Attributes & ~MethodAttributes.MemberAccessMask) | MethodAttributes.Public;
                changed++;
            }
        }
        foreach (FieldDefinition field in type.Fields)
        {
            // Backing fields of events share the event's name; leaving them private keeps C# name lookup unambiguous.
            if (!field.IsPublic && !type.Events.Any(e => e.Name == field.Name))
            {
                field.Attributes = (field.Attributes & ~FieldAttributes.FieldAccessMask) | FieldAttributes.Public;
                changed++;
            }
        }
    }

    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
    assembly.Write(output);
    Console.WriteLine($"Publicizer: {Path.GetFileName(input)} -> {output} ({changed} members made public)");
}
return 0;
