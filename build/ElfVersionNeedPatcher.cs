// Marks one GNU version-need entry of an ELF shared library as weak, so the dynamic loader accepts the
// library on systems whose provider of that version is older.
//
// Why: libLibTorchSharp.so (TorchSharp 0.107.0) needs GLIBCXX_3.4.32, which Debian 12 and Ubuntu 22.04 lack.
// The only symbol bound to that version is _ZSt21ios_base_library_initv, a link-time marker GCC 13's
// <iostream> emits; nothing relocates against it. glibc ignores a missing version whose vna_flags carry
// VER_FLG_WEAK, so setting that one bit makes the library load, and changes nothing else.
//
// This file is compiled twice: by MSBuild's RoslynCodeTaskFactory (build/TorchSharpNativeCompat.targets,
// which also ships in the NuGet package as buildTransitive) and by the test project, which defines
// PTUNING_ELF_TESTS to leave out the MSBuild task wrapper at the bottom.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace Microsoft.ML.PTuning.Build
{
    /// <summary>What <see cref="ElfVersionNeedPatcher.Patch"/> did.</summary>
    public enum ElfPatchOutcome
    {
        /// <summary>The version-need entry was marked weak.</summary>
        Patched,
        /// <summary>The entry was already weak; the file was not written.</summary>
        AlreadyWeak,
        /// <summary>The file does not need the version at all; nothing to do.</summary>
        VersionNotNeeded,
        /// <summary>Patching would be unsafe or the file is not a supported ELF; the file was left alone.</summary>
        Refused,
    }

    /// <summary>The outcome and a sentence that explains it (used as the build log line).</summary>
    public sealed class ElfPatchResult
    {
        public ElfPatchResult(ElfPatchOutcome outcome, string message)
        {
            Outcome = outcome;
            Message = message;
        }

        public ElfPatchOutcome Outcome { get; }
        public string Message { get; }
        public override string ToString() => Outcome + ": " + Message;
    }

    /// <summary>Reads the dynamic-linking tables of a 64-bit little-endian ELF file and patches version needs.</summary>
    public static class ElfVersionNeedPatcher
    {
        private const uint SHT_RELA = 4;
        private const uint SHT_DYNSYM = 11;
        private const uint SHT_REL = 9;
        private const uint SHT_GNU_verdef = 0x6ffffffd;
        private const uint SHT_GNU_verneed = 0x6ffffffe;
        private const uint SHT_GNU_versym = 0x6fffffff;
        private const ushort VER_FLG_WEAK = 0x2;

        /// <summary>
        /// Marks the version-need entry named <paramref name="versionName"/> weak, but only if every dynamic symbol bound to
        /// it is one of <paramref name="allowedSymbols"/> and no relocation refers to any of them. The file is rewritten
        /// through a temporary copy and a rename, so a hard link into a package cache is never written through.
        /// </summary>
        public static ElfPatchResult Patch(string path, string versionName, IReadOnlyCollection<string> allowedSymbols)
        {
            byte[] image;
            try
            {
                image = File.ReadAllBytes(path);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                return new ElfPatchResult(ElfPatchOutcome.Refused, $"cannot read '{path}': {e.Message}");
            }

            ElfPatchResult result = PatchImage(image, versionName, allowedSymbols, out int flagsOffset);
            if (result.Outcome != ElfPatchOutcome.Patched)
                return result;

            string temp = path + ".ptuning-patch.tmp";
            File.WriteAllBytes(temp, image);
            // Delete then rename (netstandard2.0 has no File.Move overwrite): the path gets a new inode and a hard
            // link to the NuGet cache, if the copy was one, keeps the original bytes.
            File.Delete(path);
            File.Move(temp, path);
            return new ElfPatchResult(ElfPatchOutcome.Patched,
                $"{result.Message} (vna_flags at file offset 0x{flagsOffset:x} of '{path}')");
        }

        /// <summary>The in-memory part of <see cref="Patch"/>: validates and flips the bit inside <paramref name="image"/>.</summary>
        public static ElfPatchResult PatchImage(byte[] image, string versionName, IReadOnlyCollection<string> allowedSymbols, out int flagsOffset)
        {
            flagsOffset = -1;
            ElfFile elf;
            try
            {
                elf = new ElfFile(image);
            }
            catch (InvalidDataException e)
            {
                return new ElfPatchResult(ElfPatchOutcome.Refused, e.Message);
            }

            VersionNeed? need = null;
            try
            {
                foreach (VersionNeed candidate in elf.ReadVersionNeeds())
                {
                    if (candidate.VersionName == versionName)
                        need = candidate;
                }
            }
            catch (InvalidDataException e)
            {
                return new ElfPatchResult(ElfPatchOutcome.Refused, e.Message);
            }

            if (need == null)
                return new ElfPatchResult(ElfPatchOutcome.VersionNotNeeded, $"no version-need entry for {versionName}");
            if ((need.Flags & VER_FLG_WEAK) != 0)
            {
                flagsOffset = need.FlagsOffset;
                return new ElfPatchResult(ElfPatchOutcome.AlreadyWeak, $"{versionName} (from {need.FileName}) is already weak");
            }

            List<DynamicSymbol> bound;
            try
            {
                bound = elf.ReadSymbolsBoundToVersionIndex(need.VersionIndex);
            }
            catch (InvalidDataException e)
            {
                return new ElfPatchResult(ElfPatchOutcome.Refused, e.Message);
            }

            var allowed = new HashSet<string>(allowedSymbols, StringComparer.Ordinal);
            foreach (DynamicSymbol symbol in bound)
            {
                if (!allowed.Contains(symbol.Name))
                {
                    return new ElfPatchResult(ElfPatchOutcome.Refused,
                        $"{versionName} binds symbol '{symbol.Name}', which is not among the allowed marker symbols ({string.Join(", ", allowed)}); a weak version could leave it unresolved");
                }
            }

            var boundIndices = new HashSet<uint>();
            foreach (DynamicSymbol symbol in bound)
                boundIndices.Add(symbol.Index);
            foreach (uint referenced in elf.ReadRelocationSymbolIndices())
            {
                if (boundIndices.Contains(referenced))
                {
                    return new ElfPatchResult(ElfPatchOutcome.Refused,
                        $"a relocation refers to a symbol bound to {versionName}; it is used at run time and must not be weakened");
                }
            }

            ushort flags = (ushort)(need.Flags | VER_FLG_WEAK);
            image[need.FlagsOffset] = (byte)flags;
            image[need.FlagsOffset + 1] = (byte)(flags >> 8);
            flagsOffset = need.FlagsOffset;
            return new ElfPatchResult(ElfPatchOutcome.Patched,
                $"marked {versionName} (needed from {need.FileName}, binding only {string.Join(", ", bound.ConvertAll(s => s.Name))}) weak");
        }

        /// <summary>The version names an ELF shared library defines (its .gnu.version_d), e.g. GLIBCXX_3.4.30.</summary>
        public static IReadOnlyList<string> ReadVersionDefinitions(string path) => new ElfFile(File.ReadAllBytes(path)).ReadVersionDefinitions();

        /// <summary>Names of the dynamic symbols bound to a needed version (through .gnu.version).</summary>
        public static IReadOnlyList<string> ReadSymbolsBoundToVersion(string path, string versionName)
        {
            var elf = new ElfFile(File.ReadAllBytes(path));
            var names = new List<string>();
            foreach (VersionNeed need in elf.ReadVersionNeeds())
            {
                if (need.VersionName == versionName)
                    names.AddRange(elf.ReadSymbolsBoundToVersionIndex(need.VersionIndex).ConvertAll(s => s.Name));
            }
            return names;
        }

        /// <summary>The version-need entries of an ELF file, as (file, version, weak).</summary>
        public static IReadOnlyList<(string File, string Version, bool Weak)> ReadVersionNeeds(string path)
        {
            var list = new List<(string, string, bool)>();
            foreach (VersionNeed need in new ElfFile(File.ReadAllBytes(path)).ReadVersionNeeds())
                list.Add((need.FileName, need.VersionName, (need.Flags & VER_FLG_WEAK) != 0));
            return list;
        }

        /// <summary>
        /// Finds the system's libstdc++.so.6 the way the loader would for a default install: LD_LIBRARY_PATH first, then
        /// the usual multi-arch and plain library folders. Returns null where there is none (not a glibc system).
        /// </summary>
        public static string? FindSystemLibStdCxx()
        {
            var folders = new List<string>();
            string? ldPath = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            if (!string.IsNullOrEmpty(ldPath))
                folders.AddRange(ldPath.Split(new[] { ':' }, StringSplitOptions.RemoveEmptyEntries));
            folders.AddRange(new[]
            {
                "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                "/lib64", "/usr/lib64", "/lib", "/usr/lib",
            });
            foreach (string folder in folders)
            {
                string candidate = Path.Combine(folder, "libstdc++.so.6");
                if (File.Exists(candidate))
                    return candidate;
            }
            return null;
        }

        private sealed class VersionNeed
        {
            public VersionNeed(string fileName, string versionName, ushort flags, ushort versionIndex, int flagsOffset)
            {
                FileName = fileName;
                VersionName = versionName;
                Flags = flags;
                VersionIndex = versionIndex;
                FlagsOffset = flagsOffset;
            }

            public string FileName { get; }
            public string VersionName { get; }
            public ushort Flags { get; }
            public ushort VersionIndex { get; }
            public int FlagsOffset { get; }
        }

        private sealed class DynamicSymbol
        {
            public DynamicSymbol(uint index, string name)
            {
                Index = index;
                Name = name;
            }

            public uint Index { get; }
            public string Name { get; }
        }

        private sealed class Section
        {
            public uint Type;
            public long Offset;
            public long Size;
            public uint Link;
            public uint Info;
            public long EntrySize;
        }

        /// <summary>A read-only view of the section table of an ELF64 little-endian image; every offset is bounds-checked.</summary>
        private sealed class ElfFile
        {
            private readonly byte[] _image;
            private readonly List<Section> _sections = new List<Section>();

            public ElfFile(byte[] image)
            {
                _image = image;
                if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
                    throw new InvalidDataException("not an ELF file (bad magic)");
                if (image[4] != 2)
                    throw new InvalidDataException("only 64-bit ELF files are supported");
                if (image[5] != 1)
                    throw new InvalidDataException("only little-endian ELF files are supported");

                long sectionHeaderOffset = (long)U64(0x28);
                int sectionHeaderSize = U16(0x3A);
                int sectionCount = U16(0x3C);
                if (sectionHeaderSize < 64)
                    throw new InvalidDataException($"unexpected section header size {sectionHeaderSize}");
                for (int i = 0; i < sectionCount; i++)
                {
                    long at = sectionHeaderOffset + (long)i * sectionHeaderSize;
                    Check(at, 64, "section header");
                    var section = new Section
                    {
                        Type = U32(at + 4),
                        Offset = (long)U64(at + 24),
                        Size = (long)U64(at + 32),
                        Link = U32(at + 40),
                        Info = U32(at + 44),
                        EntrySize = (long)U64(at + 56),
                    };
                    _sections.Add(section);
                }
            }

            public List<VersionNeed> ReadVersionNeeds()
            {
                var needs = new List<VersionNeed>();
                foreach (Section section in _sections)
                {
                    if (section.Type != SHT_GNU_verneed)
                        continue;
                    Section strings = LinkedSection(section, "version-need string table");
                    long entry = section.Offset;
                    for (uint i = 0; i < section.Info; i++)
                    {
                        Check(entry, 16, "Elf64_Verneed");
                        int auxCount = U16(entry + 2);
                        string file = ReadString(strings, U32(entry + 4));
                        long aux = entry + U32(entry + 8);
                        for (int j = 0; j < auxCount; j++)
                        {
                            Check(aux, 16, "Elf64_Vernaux");
                            ushort flags = U16(aux + 4);
                            ushort index = U16(aux + 6);
                            string name = ReadString(strings, U32(aux + 8));
                            needs.Add(new VersionNeed(file, name, flags, index, checked((int)(aux + 4))));
                            uint nextAux = U32(aux + 12);
                            if (nextAux == 0)
                                break;
                            aux += nextAux;
                        }
                        uint next = U32(entry + 12);
                        if (next == 0)
                            break;
                        entry += next;
                    }
                }
                return needs;
            }

            public List<string> ReadVersionDefinitions()
            {
                var names = new List<string>();
                foreach (Section section in _sections)
                {
                    if (section.Type != SHT_GNU_verdef)
                        continue;
                    Section strings = LinkedSection(section, "version-definition string table");
                    long entry = section.Offset;
                    for (uint i = 0; i < section.Info; i++)
                    {
                        Check(entry, 20, "Elf64_Verdef");
                        long aux = entry + U32(entry + 12);
                        Check(aux, 8, "Elf64_Verdaux");
                        names.Add(ReadString(strings, U32(aux)));
                        uint next = U32(entry + 16);
                        if (next == 0)
                            break;
                        entry += next;
                    }
                }
                return names;
            }

            public List<DynamicSymbol> ReadSymbolsBoundToVersionIndex(ushort versionIndex)
            {
                Section dynsym = Single(SHT_DYNSYM, ".dynsym");
                Section versym = Single(SHT_GNU_versym, ".gnu.version");
                Section strings = LinkedSection(dynsym, "dynamic string table");
                long symbolSize = dynsym.EntrySize == 0 ? 24 : dynsym.EntrySize;
                long count = dynsym.Size / symbolSize;
                if (versym.Size / 2 < count)
                    throw new InvalidDataException(".gnu.version has fewer entries than .dynsym");

                var bound = new List<DynamicSymbol>();
                for (long i = 0; i < count; i++)
                {
                    long versionAt = versym.Offset + 2 * i;
                    Check(versionAt, 2, ".gnu.version entry");
                    if ((U16(versionAt) & 0x7fff) != versionIndex)
                        continue;
                    long symbolAt = dynsym.Offset + i * symbolSize;
                    Check(symbolAt, 24, ".dynsym entry");
                    bound.Add(new DynamicSymbol((uint)i, ReadString(strings, U32(symbolAt))));
                }
                return bound;
            }

            /// <summary>Symbol indices referred to by relocations against the dynamic symbol table.</summary>
            public IEnumerable<uint> ReadRelocationSymbolIndices()
            {
                int dynsymIndex = _sections.FindIndex(s => s.Type == SHT_DYNSYM);
                foreach (Section section in _sections)
                {
                    if ((section.Type != SHT_RELA && section.Type != SHT_REL) || section.Link != dynsymIndex)
                        continue;
                    long entrySize = section.EntrySize != 0 ? section.EntrySize : (section.Type == SHT_RELA ? 24 : 16);
                    for (long at = section.Offset; at + entrySize <= section.Offset + section.Size; at += entrySize)
                    {
                        Check(at, 16, "relocation entry");
                        yield return (uint)(U64(at + 8) >> 32);
                    }
                }
            }

            private Section Single(uint type, string what)
            {
                Section? found = _sections.Find(s => s.Type == type);
                return found ?? throw new InvalidDataException($"the file has no {what} section");
            }

            private Section LinkedSection(Section section, string what)
            {
                if (section.Link >= _sections.Count)
                    throw new InvalidDataException($"{what} index {section.Link} is out of range");
                return _sections[(int)section.Link];
            }

            private string ReadString(Section table, uint offset)
            {
                long start = table.Offset + offset;
                Check(start, 1, "string");
                long end = start;
                while (end < _image.Length && end < table.Offset + table.Size && _image[end] != 0)
                    end++;
                return Encoding.ASCII.GetString(_image, (int)start, (int)(end - start));
            }

            private void Check(long offset, long length, string what)
            {
                if (offset < 0 || length < 0 || offset + length > _image.Length)
                    throw new InvalidDataException($"{what} at offset 0x{offset:x} lies outside the file ({_image.Length} bytes)");
            }

            private ushort U16(long at)
            {
                Check(at, 2, "field");
                return (ushort)(_image[at] | _image[at + 1] << 8);
            }

            private uint U32(long at)
            {
                Check(at, 4, "field");
                return BitConverter.ToUInt32(_image, (int)at);
            }

            private ulong U64(long at)
            {
                Check(at, 8, "field");
                return BitConverter.ToUInt64(_image, (int)at);
            }
        }
    }

#if !PTUNING_ELF_TESTS
    /// <summary>
    /// MSBuild task: patches each given copy of libLibTorchSharp.so when the system libstdc++ lacks the version it needs.
    /// </summary>
    public sealed class PatchLibStdCxxVersionNeed : Microsoft.Build.Utilities.Task
    {
        /// <summary>The library copies in an output or publish folder (never a package cache).</summary>
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        /// <summary>The version-need entry to weaken.</summary>
        public string VersionName { get; set; } = "GLIBCXX_3.4.32";

        /// <summary>Semicolon-separated symbols that may be bound to the version (link-time markers only).</summary>
        public string AllowedSymbols { get; set; } = "_ZSt21ios_base_library_initv";

        public override bool Execute()
        {
            string? libStdCxx = ElfVersionNeedPatcher.FindSystemLibStdCxx();
            if (libStdCxx == null)
            {
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
                    "PTuning native compat: no system libstdc++.so.6 found; TorchSharp's native library left as shipped.");
                return true;
            }
            if (ElfVersionNeedPatcher.ReadVersionDefinitions(libStdCxx).Contains(VersionName))
            {
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
                    $"PTuning native compat: {libStdCxx} provides {VersionName}; TorchSharp's native library left as shipped.");
                return true;
            }

            string[] allowed = AllowedSymbols.Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries);
            foreach (var item in Files)
            {
                ElfPatchResult result = ElfVersionNeedPatcher.Patch(item.ItemSpec, VersionName, allowed);
                // High importance so the line shows in a normal build log: it says a shipped binary was changed, or why not.
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                    $"PTuning native compat: {item.ItemSpec}: {result.Outcome}: {result.Message} (system {libStdCxx} lacks {VersionName})");
            }
            return true;
        }
    }
#endif
}
