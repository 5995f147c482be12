namespace Microsoft.ML;

/// <summary>
/// Saving a model so that a crash, a kill or a full disk during the save never leaves a half-written file where a
/// good model was: <see cref="SaveAtomically"/>.
/// </summary>
public static class ModelOperationsCatalogExtensions
{
    // Temporary files are ".<target file name>.<random>.saving" beside the target.
    private const string TemporarySuffix = ".saving";

    /// <summary>
    /// Saves <paramref name="model"/> and <paramref name="inputSchema"/> to <paramref name="filePath"/> as
    /// <see cref="ModelOperationsCatalog.Save(ITransformer, DataViewSchema, string)"/> does, but atomically: the zip is
    /// written to a temporary file beside the target (same folder, so the rename cannot cross file systems), flushed to
    /// disk, and only then renamed over the target. Until that rename the old file stays as it was; after it the new
    /// file is complete. Whatever happens in between, a reader never sees a half-written model.
    /// </summary>
    /// <remarks>
    /// <para>
    /// ML.NET's own <c>mlContext.Model.Save(model, schema, filePath)</c> opens <paramref name="filePath"/> with
    /// <see cref="File.Create(string)"/> and overwrites it in place: a process killed (or a disk filled) part-way leaves
    /// a truncated zip where the good one was. Use this method wherever a model file must survive a failed save.
    /// </para>
    /// <para>
    /// The temporary file is named <c>.&lt;file name&gt;.&lt;random&gt;.saving</c>. It is removed when the save fails;
    /// one left by a killed process is removed by the next save to the same target (a temporary file that another
    /// save still holds open is left alone).
    /// </para>
    /// <para>
    /// While it writes the zip, ML.NET stages each entry in a folder <c>ml_dotnet_&lt;random&gt;</c> under
    /// <see cref="Path.GetTempPath"/> and deletes it when the save ends; a killed process, with either method, leaves that
    /// folder behind (about the size of the model, more for a model with an embedded base). Such folders can be deleted
    /// when no ML.NET process is running.
    /// </para>
    /// </remarks>
    /// <param name="catalog">The model operations catalog (<c>mlContext.Model</c>).</param>
    /// <param name="model">The trained model to save.</param>
    /// <param name="inputSchema">The schema of the model's input data (may be null, as for ML.NET's <c>Save</c>).</param>
    /// <param name="filePath">The model file to write or replace. Its folder must exist.</param>
    /// <exception cref="ArgumentNullException"><paramref name="catalog"/> or <paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="filePath"/> is empty, or names a folder.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder of <paramref name="filePath"/> does not exist.</exception>
    public static void SaveAtomically(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema inputSchema, string filePath)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(filePath);
        string target = Path.GetFullPath(filePath);
        string fileName = Path.GetFileName(target);
        string folder = Path.GetDirectoryName(target) ?? throw new ArgumentException($"'{filePath}' is a root folder, not a file.", nameof(filePath));
        if (fileName.Length == 0 || Directory.Exists(target))
        {
            throw new ArgumentException($"'{filePath}' is a folder; give the path of the model file to write.", nameof(filePath));
        }
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"Cannot save the model to '{target}': the folder '{folder}' does not exist.");
        }

        RemoveStaleTemporaries(folder, fileName);
        string temporary = Path.Combine(folder, $".{fileName}.{Guid.NewGuid():N}{TemporarySuffix}");
        try
        {
            // FileShare.None also locks the file, which tells the stale-file cleanup of a concurrent save to leave it.
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16))
            {
                catalog.Save(model, inputSchema, stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, target, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>
    /// Deletes the temporary files that saves to <paramref name="fileName"/> left behind when they were killed; a file
    /// another save holds open (locked) is skipped.
    /// </summary>
    internal static void RemoveStaleTemporaries(string folder, string fileName)
    {
        string prefix = $".{fileName}.";
        foreach (string stale in Directory.EnumerateFiles(folder, "*" + TemporarySuffix))
        {
            // Compared in code, not in the search pattern, so a '?' or '*' in the file name matches only itself.
            if (!Path.GetFileName(stale).StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }
            try
            {
                // Opening with FileShare.None fails while a live save holds the file; a killed one holds nothing.
                new FileStream(stale, FileMode.Open, FileAccess.ReadWrite, FileShare.None).Dispose();
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }
            TryDelete(stale);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // The original error (or the save) matters more than a leftover temporary file.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
