using Microsoft.ML.PTuning.Runtime;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.PTuning.Persistence;

/// <summary>
/// A base model carried inside the zip (<see cref="PrefixTuningOptions.EmbedBaseModel"/>): exactly the files it is read
/// from (<see cref="BaseModel.IdentityFiles"/>), as streams <c>Base/&lt;name&gt;</c>, extracted on load into the per-user
/// <see cref="EmbeddedBaseCache"/>.
/// </summary>
internal static class EmbeddedBaseModel
{
    private const string StreamPrefix = "Base/";

    /// <summary>The zip stream that holds one base file.</summary>
    public static string StreamName(string fileName) => StreamPrefix + fileName;

    /// <summary>Writes each of <paramref name="files"/> of <paramref name="folder"/>, checking it is still the file that was loaded.</summary>
    /// <exception cref="InvalidOperationException">A file changed since the base model was loaded.</exception>
    public static void Save(ModelSaveContext ctx, string folder, IReadOnlyList<BaseModelFile> files)
    {
        foreach (var file in files)
        {
            ctx.SaveBinaryStream(StreamName(file.Name), w =>
            {
                string path = Path.Combine(folder, file.Name);
                using var source = File.OpenRead(path);
                using var target = new DigestingWriteStream(w.BaseStream);
                source.CopyTo(target);
                string sha = target.Sha256();
                if (target.BytesWritten != file.Length || sha != file.Sha256)
                {
                    throw new InvalidOperationException(
                        $"The base model file '{path}' changed since the model was trained on it (SHA-256 {file.Sha256} then, {sha} now); " +
                        "the zip would carry other files than the model was trained with. Retrain, or restore the file.");
                }
            });
        }
    }

    /// <summary>The cache folder holding the embedded files, extracted (size-limited, digest-checked) when not cached yet.</summary>
    public static string Extract(ModelLoadContext ctx, IReadOnlyList<BaseModelFile> files) =>
        EmbeddedBaseCache.Resolve(files, (file, target) => ZipEntryReader.Copy(ctx, StreamName(file.Name), file.Length, file.Sha256, target));
}
