using System.Security.Cryptography;
using Microsoft.ML.PTuning.Build;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Tests.Foundation;

/// <summary>The build's fix that lets TorchSharp 0.107.0 load where libstdc++ lacks GLIBCXX_3.4.32.</summary>
public class NativeCompatTests
{
    private const string Version = "GLIBCXX_3.4.32";
    private static readonly string[] Marker = { "_ZSt21ios_base_library_initv" };

    private static string CacheCopy => Path.Combine(TestPaths.TorchSharpPackageFolder, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    private static bool SystemLacksVersion()
    {
        string? libStdCxx = ElfVersionNeedPatcher.FindSystemLibStdCxx();
        return libStdCxx != null && !ElfVersionNeedPatcher.ReadVersionDefinitions(libStdCxx).Contains(Version);
    }

    private static string CopyOfOriginal()
    {
        string folder = TestPaths.NewTempFolder("elf");
        string copy = Path.Combine(folder, "libLibTorchSharp.so");
        File.Copy(CacheCopy, copy);
        return copy;
    }

    [SkippableFact]
    public void PatchMarksOnlyTheVersionNeedWeakAndChangesTwoBytesAtMost()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "the native library under test is the linux-x64 one");
        string copy = CopyOfOriginal();
        byte[] before = File.ReadAllBytes(copy);
        Assert.Contains(ElfVersionNeedPatcher.ReadVersionNeeds(copy), n => n.Version == Version && !n.Weak);

        ElfPatchResult result = ElfVersionNeedPatcher.Patch(copy, Version, Marker);

        Assert.Equal(ElfPatchOutcome.Patched, result.Outcome);
        var needs = ElfVersionNeedPatcher.ReadVersionNeeds(copy);
        Assert.Contains(needs, n => n.Version == Version && n.Weak);
        Assert.All(needs.Where(n => n.Version != Version), n => Assert.False(n.Weak, $"{n.Version} must stay strong"));
        byte[] after = File.ReadAllBytes(copy);
        Assert.Equal(before.Length, after.Length);
        int differing = before.Zip(after).Count(p => p.First != p.Second);
        Assert.Equal(1, differing); // the low byte of vna_flags gains VER_FLG_WEAK
    }

    [SkippableFact]
    public void PatchIsIdempotent()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "the native library under test is the linux-x64 one");
        string copy = CopyOfOriginal();
        Assert.Equal(ElfPatchOutcome.Patched, ElfVersionNeedPatcher.Patch(copy, Version, Marker).Outcome);
        byte[] once = File.ReadAllBytes(copy);
        Assert.Equal(ElfPatchOutcome.AlreadyWeak, ElfVersionNeedPatcher.Patch(copy, Version, Marker).Outcome);
        Assert.Equal(once, File.ReadAllBytes(copy));
    }

    [SkippableFact]
    public void RefusesAVersionThatBindsOtherSymbols()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "the native library under test is the linux-x64 one");
        string copy = CopyOfOriginal();
        byte[] before = File.ReadAllBytes(copy);
        // GLIBCXX_3.4 binds many real functions of libstdc++; weakening it would be unsafe.
        ElfPatchResult result = ElfVersionNeedPatcher.Patch(copy, "GLIBCXX_3.4", Marker);
        Assert.Equal(ElfPatchOutcome.Refused, result.Outcome);
        Assert.Contains("not among the allowed", result.Message);
        Assert.Equal(before, File.ReadAllBytes(copy));
    }

    [SkippableFact]
    public void RefusesWhenARelocationUsesABoundSymbol()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "the native library under test is the linux-x64 one");
        string copy = CopyOfOriginal();
        byte[] before = File.ReadAllBytes(copy);
        // Allow every symbol of GLIBCXX_3.4 so that only the relocation check can refuse: those functions are called.
        var bound = ElfVersionNeedPatcher.ReadSymbolsBoundToVersion(copy, "GLIBCXX_3.4");
        Assert.NotEmpty(bound);
        ElfPatchResult result = ElfVersionNeedPatcher.Patch(copy, "GLIBCXX_3.4", bound);
        Assert.Equal(ElfPatchOutcome.Refused, result.Outcome);
        Assert.Contains("relocation", result.Message);
        Assert.Equal(before, File.ReadAllBytes(copy));
    }

    [Fact]
    public void RefusesANonElfFile()
    {
        string path = Path.Combine(TestPaths.NewTempFolder("elf"), "not-elf.so");
        File.WriteAllText(path, "this is a text file, not a shared library");
        ElfPatchResult result = ElfVersionNeedPatcher.Patch(path, Version, Marker);
        Assert.Equal(ElfPatchOutcome.Refused, result.Outcome);
        Assert.Contains("not an ELF file", result.Message);
        Assert.Equal("this is a text file, not a shared library", File.ReadAllText(path));
    }

    [Fact]
    public void RefusesATruncatedElfFile()
    {
        byte[] header = new byte[64];
        "\u007fELF"u8.CopyTo(header);
        header[4] = 2;
        header[5] = 1;
        BitConverter.GetBytes(0x1000UL).CopyTo(header, 0x28); // section headers past the end of the file
        BitConverter.GetBytes((ushort)64).CopyTo(header, 0x3A);
        BitConverter.GetBytes((ushort)3).CopyTo(header, 0x3C);
        ElfPatchResult result = ElfVersionNeedPatcher.PatchImage(header, Version, Marker, out _);
        Assert.Equal(ElfPatchOutcome.Refused, result.Outcome);
        Assert.Contains("outside the file", result.Message);
    }

    [SkippableFact]
    public void BuildOutputCopyIsPatchedAndTheNuGetCacheCopyIsNot()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && SystemLacksVersion(), "the build patches only where libstdc++ lacks " + Version);
        string[] outputCopies = Directory.GetFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories);
        Assert.NotEmpty(outputCopies);
        foreach (string copy in outputCopies)
            Assert.Contains(ElfVersionNeedPatcher.ReadVersionNeeds(copy), n => n.Version == Version && n.Weak);
        Assert.Contains(ElfVersionNeedPatcher.ReadVersionNeeds(CacheCopy), n => n.Version == Version && !n.Weak);
        Assert.NotEqual(Md5(CacheCopy), Md5(outputCopies[0]));
    }

    [Fact]
    public void TorchSharpLoadsAndComputesAGradient()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new float[] { 1f, 2f, 3f }).requires_grad_();
        Tensor y = (x * x).sum(); // dy/dx = 2x
        y.backward();
        Assert.Equal(new float[] { 2f, 4f, 6f }, x.grad!.data<float>().ToArray());
    }

    private static string Md5(string path) => Convert.ToHexString(MD5.HashData(File.ReadAllBytes(path)));
}
