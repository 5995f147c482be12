using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.ML.PTuning.Checkpoints;
using Microsoft.ML.PTuning.Runtime;

namespace Microsoft.ML.PTuning.Persistence;

/// <summary>
/// Where embedded base models are extracted: a per-user folder (<c>$XDG_CACHE_HOME</c> or <c>~/.cache</c>, then
/// <c>ptuning/embedded-base</c>; on Windows under LocalApplicationData), owner-only on Unix, one sub-folder per base
/// identity (the SHA-256 of its files' names, lengths and digests). A cached folder is used only when it holds exactly
/// the recorded files with the recorded digests; otherwise it is extracted again. Extraction writes into a staging
/// folder that is renamed into place, and deleted when anything fails; staging folders left by killed processes are
/// removed by the next extraction.
/// </summary>
internal static class EmbeddedBaseCache
{
    private const string StagingPrefix = ".staging-";
    private const string DiscardPrefix = ".discard-";

    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    // Leftovers of a live process are kept unless older than this (a process id may be reused).
    private static readonly TimeSpan StaleAge = TimeSpan.FromDays(1);

    /// <summary>Replaces the per-user location (tests point it at their own folder); null for the default.</summary>
    internal static string? RootOverride { get; set; }

    /// <summary>The cache folder in use.</summary>
    public static string Root => RootOverride ?? DefaultRoot();

    /// <summary>The per-user cache location for this platform.</summary>
    /// <exception cref="InvalidOperationException">The platform names no per-user folder (no home folder).</exception>
    internal static string DefaultRoot()
    {
        string? userCache;
        if (OperatingSystem.IsWindows())
        {
            userCache = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
        }
        else
        {
            // XDG: a relative XDG_CACHE_HOME is invalid and ignored.
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            userCache = !string.IsNullOrEmpty(xdg) && Path.IsPathFullyQualified(xdg) ? xdg
                : string.IsNullOrEmpty(home) ? null : Path.Combine(home, ".cache");
        }
        if (string.IsNullOrEmpty(userCache))
            throw new InvalidOperationException("No per-user cache folder for the embedded base model: set HOME or XDG_CACHE_HOME.");
        return Path.Combine(userCache, "ptuning", "embedded-base");
    }

    /// <summary>The name of a base's cache folder: lower-case hex SHA-256 over its files' names, lengths and digests.</summary>
    public static string IdentityKey(IReadOnlyList<BaseModelFile> files)
    {
        var text = new StringBuilder();
        foreach (var file in files.OrderBy(f => f.Name, StringComparer.Ordinal))
            text.Append(file.Name).Append('\n').Append(file.Length).Append('\n').Append(file.Sha256).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>
    /// The cache folder holding exactly <paramref name="files"/>, verified; when it is absent or fails verification,
    /// every file is written through <paramref name="extract"/> (which must check its length and digest) first.
    /// </summary>
    public static string Resolve(IReadOnlyList<BaseModelFile> files, Action<BaseModelFile, Stream> extract)
    {
        string root = Root;
        CreateOwnerOnly(root);
        string folder = Path.Combine(root, IdentityKey(files));
        if (Holds(folder, files))
            return folder;

        RemoveLeftovers(root);
        string staging = Path.Combine(root, $"{StagingPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            CreateOwnerOnly(staging);
            foreach (var file in files)
            {
                using var target = new FileStream(Path.Combine(staging, file.Name), NewFileOptions());
                extract(file, target);
            }
            Install(staging, folder, files);
        }
        finally
        {
            DeleteQuietly(staging);
        }
        return folder;
    }

    /// <summary>Whether <paramref name="folder"/> holds exactly <paramref name="files"/> (plain files, lengths, digests).</summary>
    internal static bool Holds(string folder, IReadOnlyList<BaseModelFile> files)
    {
        if (!Directory.Exists(folder))
            return false;
        var entries = new DirectoryInfo(folder).GetFileSystemInfos();
        if (entries.Length != files.Count)
            return false;
        foreach (var file in files)
        {
            var info = new FileInfo(Path.Combine(folder, file.Name));
            if (!info.Exists || info.LinkTarget != null || info.Length != file.Length || HuggingFaceCheckpoint.HashWeights(info.FullName) != file.Sha256)
                return false;
        }
        return true;
    }

    // Renames the staging folder into place; a folder already there that does not verify is moved aside and deleted.
    private static void Install(string staging, string folder, IReadOnlyList<BaseModelFile> files)
    {
        if (Directory.Exists(folder))
        {
            string discard = Path.Combine(Path.GetDirectoryName(folder)!, $"{DiscardPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
            try
            {
                Directory.Move(folder, discard);
            }
            catch (IOException) when (!Directory.Exists(folder))
            {
                // Another process moved it first.
            }
            DeleteQuietly(discard);
        }
        try
        {
            Directory.Move(staging, folder);
        }
        catch (IOException) when (Holds(folder, files))
        {
            // Another process installed the same files meanwhile; the finally of Resolve deletes ours.
        }
        catch (IOException e)
        {
            throw new InvalidOperationException($"Cannot install the embedded base model in the cache folder '{folder}': {e.Message}", e);
        }
    }

    // Staging and discarded folders of processes that are gone (or that are very old).
    private static void RemoveLeftovers(string root)
    {
        foreach (var folder in new DirectoryInfo(root).EnumerateDirectories())
        {
            string? rest = folder.Name.StartsWith(StagingPrefix, StringComparison.Ordinal) ? folder.Name[StagingPrefix.Length..]
                : folder.Name.StartsWith(DiscardPrefix, StringComparison.Ordinal) ? folder.Name[DiscardPrefix.Length..]
                : null;
            if (rest == null)
                continue;
            int dash = rest.IndexOf('-');
            bool parsed = int.TryParse(dash < 0 ? rest : rest[..dash], out int pid);
            bool ours = parsed && pid == Environment.ProcessId;
            bool old = DateTime.UtcNow - folder.LastWriteTimeUtc > StaleAge;
            if (!ours && (old || !parsed || !IsRunning(pid)))
                DeleteQuietly(folder.FullName);
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Creates the folder (and missing parents) readable by its owner only, and makes an existing one so.</summary>
    /// <exception cref="InvalidOperationException">The folder exists but its permissions cannot be set (another user's).</exception>
    private static void CreateOwnerOnly(string folder)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder); // LocalApplicationData is per user already
            return;
        }
        Directory.CreateDirectory(folder, OwnerOnlyFolder);
        try
        {
            if (File.GetUnixFileMode(folder) != OwnerOnlyFolder)
                File.SetUnixFileMode(folder, OwnerOnlyFolder);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new InvalidOperationException(
                $"The embedded base model cache folder '{folder}' is not this user's (its permissions cannot be set to owner-only); " +
                "remove it, or set XDG_CACHE_HOME to a folder of your own.", e);
        }
    }

    private static FileStreamOptions NewFileOptions()
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = OwnerOnlyFile;
        return options;
    }

    private static void DeleteQuietly(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for RemoveLeftovers of a later extraction.
        }
    }
}
