// Writes a tiny BERT Hugging Face folder for build/cli-check.sh: config.json, model.safetensors (seeded random float32
// weights under the Hugging Face names: hidden 32, 2 layers, 4 heads, FFN 64) and the given tokenizer files copied in.
// A .NET 10 file-based app, run from a copy outside the repo so the repo's build settings do not apply:
//
//   dotnet run TinyBertFolder.cs -- <output folder> <vocab.txt> <tokenizer_config.json>
#:property PublishAot=false
#:property JsonSerializerIsReflectionEnabledByDefault=true
using System.Text;
using System.Text.Json;

if (args.Length != 3)
{
    Console.Error.WriteLine("usage: TinyBertFolder <output folder> <vocab.txt> <tokenizer_config.json>");
    return 1;
}
string folder = args[0];
Directory.CreateDirectory(folder);
File.Copy(args[1], Path.Combine(folder, "vocab.txt"), overwrite: true);
File.Copy(args[2], Path.Combine(folder, "tokenizer_config.json"), overwrite: true);
int vocab = File.ReadAllLines(args[1]).Count(line => line.Length > 0);
const int Hidden = 32, Layers = 2, Heads = 4, Intermediate = 64, Positions = 64;

var config = new Dictionary<string, object>
{
    ["model_type"] = "bert",
    ["vocab_size"] = vocab,
    ["hidden_size"] = Hidden,
    ["num_hidden_layers"] = Layers,
    ["num_attention_heads"] = Heads,
    ["intermediate_size"] = Intermediate,
    ["hidden_act"] = "gelu",
    ["max_position_embeddings"] = Positions,
    ["type_vocab_size"] = 2,
    ["layer_norm_eps"] = 1e-12,
    ["pad_token_id"] = 0,
    ["hidden_dropout_prob"] = 0.1,
    ["attention_probs_dropout_prob"] = 0.1,
};
File.WriteAllText(Path.Combine(folder, "config.json"), JsonSerializer.Serialize(config, new JsonSerializerOptions { WriteIndented = true }));

var tensors = new List<(string Name, int[] Shape)>
{
    ("embeddings.word_embeddings.weight", [vocab, Hidden]),
    ("embeddings.position_embeddings.weight", [Positions, Hidden]),
    ("embeddings.token_type_embeddings.weight", [2, Hidden]),
    ("embeddings.LayerNorm.weight", [Hidden]),
    ("embeddings.LayerNorm.bias", [Hidden]),
};
for (int layer = 0; layer < Layers; layer++)
{
    string p = $"encoder.layer.{layer}.";
    foreach (string part in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense" })
    {
        tensors.Add((p + part + ".weight", [Hidden, Hidden]));
        tensors.Add((p + part + ".bias", [Hidden]));
    }
    tensors.Add((p + "attention.output.LayerNorm.weight", [Hidden]));
    tensors.Add((p + "attention.output.LayerNorm.bias", [Hidden]));
    tensors.Add((p + "intermediate.dense.weight", [Intermediate, Hidden]));
    tensors.Add((p + "intermediate.dense.bias", [Intermediate]));
    tensors.Add((p + "output.dense.weight", [Hidden, Intermediate]));
    tensors.Add((p + "output.dense.bias", [Hidden]));
    tensors.Add((p + "output.LayerNorm.weight", [Hidden]));
    tensors.Add((p + "output.LayerNorm.bias", [Hidden]));
}
tensors.Add(("pooler.dense.weight", [Hidden, Hidden]));
tensors.Add(("pooler.dense.bias", [Hidden]));

// safetensors: an 8-byte little-endian header length, the JSON header (name -> dtype, shape, data offsets), the data.
var random = new Random(1);
var header = new Dictionary<string, object>();
var data = new MemoryStream();
foreach (var (name, shape) in tensors)
{
    long start = data.Length;
    int count = shape.Aggregate(1, (a, b) => a * b);
    bool layerNormWeight = name.EndsWith("LayerNorm.weight", StringComparison.Ordinal);
    for (int i = 0; i < count; i++)
    {
        // Roughly normal noise (sum of uniforms), LayerNorm weights around 1.
        double noise = (random.NextDouble() + random.NextDouble() + random.NextDouble() - 1.5) * 0.4; // standard deviation 0.2
        data.Write(BitConverter.GetBytes((float)(layerNormWeight ? 1 + noise : noise)));
    }
    header[name] = new { dtype = "F32", shape, data_offsets = new[] { start, data.Length } };
}
byte[] headerBytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
int padding = (8 - headerBytes.Length % 8) % 8;
headerBytes = headerBytes.Concat(Enumerable.Repeat((byte)' ', padding)).ToArray();
using (FileStream file = File.Create(Path.Combine(folder, "model.safetensors")))
{
    file.Write(BitConverter.GetBytes((ulong)headerBytes.Length));
    file.Write(headerBytes);
    data.Position = 0;
    data.CopyTo(file);
}
Console.WriteLine($"tiny BERT folder: {folder} (vocabulary {vocab}, {tensors.Count} tensors)");
return 0;
