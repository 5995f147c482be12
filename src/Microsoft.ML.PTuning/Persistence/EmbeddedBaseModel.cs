using Microsoft.ML.Runtime;

namespace Microsoft.ML.PTuning.Persistence;

/// <summary>
/// A base model carried inside the zip (<see cref="PrefixTuningOptions.EmbedBaseModel"/>): its folder's files as
/// streams <c>Base/&lt;name&gt;</c>, extracted on load into a cache folder under the temp directory.
/// </summary>
internal static class EmbeddedBaseModel
{
    private const string StreamPrefix = "Base/";

    // *** Binary format *** (continues the model's header, see ModelZipFormat)
    // int: file count M; M strings: file names; each file in stream "Base/<name>"
    public static void Save(ModelSaveContext ctx, string folder)
    {
        string[] files = Directory.GetFiles(folder).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        ctx.Writer.Write(files.Length);
        foreach (string file in files)
        {
            ctx.Writer.Write(file);
            ctx.SaveBinaryStream(StreamPrefix + file, w =>
            {
                using var source = File.OpenRead(Path.Combine(folder, file));
                source.CopyTo(w.BaseStream);
            });
        }
    }

    /// <summary>Writes the embedded base files once per SHA into a cache folder under the temp directory; returns that folder.</summary>
    public static string Extract(ModelLoadContext ctx, BinaryReader reader, string sha)
    {
        int count = reader.ReadInt32();
        if (count < 1 || count > 10_000)
            throw ModelZipFormat.Corrupt($"embedded base model file count {count}");
        string[] files = Enumerable.Range(0, count).Select(_ => reader.ReadString()).ToArray();
        if (files.Any(f => f.Length == 0 || f != Path.GetFileName(f)))
            throw ModelZipFormat.Corrupt("an embedded base model file name is not a plain file name");

        string folder = Path.Combine(Path.GetTempPath(), "ptuning-embedded-base", sha.ToLowerInvariant());
        string complete = Path.Combine(folder, ".complete");
        if (File.Exists(complete))
            return folder;
        string staging = folder + "." + Guid.NewGuid().ToString("N");
        Directory.CreateDirectory(staging);
        foreach (string file in files)
        {
            if (!ctx.TryLoadBinaryStream(StreamPrefix + file, r =>
                {
                    using var target = File.Create(Path.Combine(staging, file));
                    r.BaseStream.CopyTo(target);
                }))
            {
                throw ModelZipFormat.Corrupt($"the embedded base model file '{file}' is missing");
            }
        }
        File.WriteAllText(Path.Combine(staging, ".complete"), sha);
        try
        {
            Directory.Move(staging, folder);
        }
        catch (IOException) when (File.Exists(complete))
        {
            Directory.Delete(staging, recursive: true); // another process extracted it first
        }
        return folder;
    }
}
