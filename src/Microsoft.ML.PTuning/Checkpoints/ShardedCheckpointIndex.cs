using System.Text.Json;

namespace Microsoft.ML.PTuning.Checkpoints;

/// <summary>
/// The index of a sharded Hugging Face checkpoint (<c>model.safetensors.index.json</c> or
/// <c>pytorch_model.bin.index.json</c>, written by <c>save_pretrained</c> above its shard size): a <c>weight_map</c> from
/// each tensor's name to the shard file that holds it. The index is treated as hostile: it is read with a size limit, and
/// every shard it names must be a plain file name of the same folder with the shard kind's extension (no folders, no
/// <c>..</c>, no leading dot, letters, digits, '.', '-' and '_' only), so nothing outside the folder is ever read.
/// </summary>
internal sealed class ShardedCheckpointIndex
{
    /// <summary>The index of safetensors shards.</summary>
    public const string SafeTensorsIndexName = "model.safetensors.index.json";

    /// <summary>The index of PyTorch pickle shards.</summary>
    public const string PickleIndexName = "pytorch_model.bin.index.json";

    /// <summary>The largest index accepted; a real one is a few tens of kilobytes per thousand tensors.</summary>
    public const long MaxIndexBytes = 64L << 20;

    /// <summary>The most shards an index may name (far above any encoder's; bounds what a zip may list).</summary>
    public const int MaxShards = 4096;

    private const int MaxShardNameLength = 255;

    private ShardedCheckpointIndex(string path, IReadOnlyDictionary<string, string> weightMap, IReadOnlyList<string> shards)
    {
        Path = path;
        WeightMap = weightMap;
        Shards = shards;
    }

    /// <summary>Full path of the index file.</summary>
    public string Path { get; }

    /// <summary>Tensor name → shard file name, as the index declares it.</summary>
    public IReadOnlyDictionary<string, string> WeightMap { get; }

    /// <summary>The shard file names the index names, each once, in ordinal order.</summary>
    public IReadOnlyList<string> Shards { get; }

    /// <summary>Whether <paramref name="fileName"/> is the name of an index file.</summary>
    public static bool IsIndexName(string fileName) => fileName is SafeTensorsIndexName or PickleIndexName;

    /// <summary>
    /// Whether <paramref name="name"/> may be a shard's file name: plain (no folder, not hidden), of safe characters only,
    /// ending in <c>.safetensors</c> or <c>.bin</c>, and not one of the unsharded weight file names.
    /// </summary>
    public static bool IsShardName(string name) =>
        ShardExtension(name) != null && !HuggingFaceCheckpoint.WeightFileNames.Contains(name);

    /// <summary>Reads and checks the index at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The index is too large, not JSON, or has a malformed weight_map or shard name.</exception>
    public static ShardedCheckpointIndex Read(string path)
    {
        var info = new FileInfo(path);
        if (info.Length > MaxIndexBytes)
            throw Bad(path, $"is {info.Length} bytes; an index is at most {MaxIndexBytes} bytes");
        string extension = System.IO.Path.GetFileName(path) == PickleIndexName ? ".bin" : ".safetensors";
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Sharded checkpoint index '{path}' is not valid JSON ({e.Message}).", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("weight_map", out JsonElement map) || map.ValueKind != JsonValueKind.Object)
            {
                throw Bad(path, "has no \"weight_map\" object (tensor name → shard file)");
            }
            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (JsonProperty entry in map.EnumerateObject())
            {
                if (entry.Name.Length == 0)
                    throw Bad(path, "maps an empty tensor name");
                if (entry.Value.ValueKind != JsonValueKind.String)
                    throw Bad(path, $"maps tensor '{Printable(entry.Name)}' to a JSON {entry.Value.ValueKind}, not a shard file name");
                string shard = entry.Value.GetString()!;
                if (ShardExtension(shard) != extension || HuggingFaceCheckpoint.WeightFileNames.Contains(shard))
                {
                    throw Bad(path, $"maps tensor '{Printable(entry.Name)}' to '{Printable(shard)}', which is not a plain {extension} file name " +
                        $"of this folder (letters, digits, '.', '-', '_'; no folders, no leading dot, not {string.Join(" or ", HuggingFaceCheckpoint.WeightFileNames)})");
                }
                if (!weightMap.TryAdd(entry.Name, shard))
                    throw Bad(path, $"maps tensor '{Printable(entry.Name)}' twice");
            }
            if (weightMap.Count == 0)
                throw Bad(path, "has an empty weight_map");
            string[] shards = weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
            if (shards.Length > MaxShards)
                throw Bad(path, $"names {shards.Length} shards; at most {MaxShards} are read");
            return new ShardedCheckpointIndex(path, weightMap, shards);
        }
    }

    /// <summary>
    /// The shard names of the index in <paramref name="folder"/> (the first of the two kinds that exists), or none when
    /// there is no index or it cannot be read (whoever loads the folder then reports why).
    /// </summary>
    public static IReadOnlyList<string> ShardsIn(string folder)
    {
        string? index = CheckpointFolder.FindFirst(folder, [SafeTensorsIndexName, PickleIndexName]);
        if (index == null)
            return [];
        try
        {
            return Read(index).Shards;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>
    /// Reads every shard (<paramref name="readShard"/> reads one file, checked as a single weight file is) and checks that
    /// each shard holds exactly the tensors the index maps to it.
    /// </summary>
    /// <exception cref="FileNotFoundException">A shard the index names is not in the folder.</exception>
    /// <exception cref="InvalidDataException">A shard lacks a tensor the index maps to it, or holds one the index maps elsewhere or not at all.</exception>
    public Dictionary<string, TorchSharp.torch.Tensor> ReadShards(Func<string, Dictionary<string, TorchSharp.torch.Tensor>> readShard,
        Action<string>? onShard = null)
    {
        string folder = System.IO.Path.GetDirectoryName(Path)!;
        string index = System.IO.Path.GetFileName(Path);
        var tensors = new Dictionary<string, TorchSharp.torch.Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (string shard in Shards)
            {
                string shardPath = ShardPath(shard);
                onShard?.Invoke(shard);
                var read = readShard(shardPath);
                string? problem = Mismatch(shard, read);
                if (problem != null)
                {
                    foreach (var tensor in read.Values)
                        tensor.Dispose();
                    throw new InvalidDataException($"Shard '{shard}' of {index} ({folder}) {problem}.");
                }
                foreach (var (name, tensor) in read)
                    tensors.Add(name, tensor); // unique: each shard holds only the tensors mapped to it
            }
            return tensors;
        }
        catch
        {
            foreach (var tensor in tensors.Values)
                tensor.Dispose();
            throw;
        }
    }

    // How a shard's tensors differ from what the index maps to it, or null.
    private string? Mismatch(string shard, Dictionary<string, TorchSharp.torch.Tensor> read)
    {
        var expected = WeightMap.Where(p => p.Value == shard).Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        string? missing = expected.FirstOrDefault(name => !read.ContainsKey(name));
        if (missing != null)
            return $"lacks tensor '{Printable(missing)}', which the index maps to it";
        string? extra = read.Keys.FirstOrDefault(name => !expected.Contains(name));
        if (extra == null)
            return null;
        return $"holds tensor '{Printable(extra)}', which the index maps " +
            (WeightMap.TryGetValue(extra, out string? other) ? $"to '{other}'" : "to no shard");
    }

    /// <summary>Full path of <paramref name="shard"/> beside the index; the shard must exist.</summary>
    /// <exception cref="FileNotFoundException">The shard is not there.</exception>
    public string ShardPath(string shard)
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, shard);
        if (!File.Exists(path))
            throw new FileNotFoundException($"Sharded checkpoint index '{Path}' names shard '{shard}', which is not in its folder.", path);
        return path;
    }

    // ".safetensors" or ".bin" for a plain, safe shard name; null for anything else.
    private static string? ShardExtension(string name)
    {
        if (name.Length == 0 || name.Length > MaxShardNameLength || name[0] == '.'
            || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
        {
            return null;
        }
        return name.EndsWith(".safetensors", StringComparison.Ordinal) && name.Length > ".safetensors".Length ? ".safetensors"
            : name.EndsWith(".bin", StringComparison.Ordinal) && name.Length > ".bin".Length ? ".bin"
            : null;
    }

    private static InvalidDataException Bad(string path, string what) => new($"Sharded checkpoint index '{path}' {what}.");

    // A hostile name goes into a message only as printable ASCII, and short.
    private static string Printable(string value)
    {
        string shown = new(value.Take(80).Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());
        return value.Length > 80 ? shown + "…" : shown;
    }
}
