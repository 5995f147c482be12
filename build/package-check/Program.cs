// The package consumer of build/package-check.sh: what a user's app does with the package alone. It writes a tiny
// random BERT folder (the package needs a base model; no network), trains a two-class prefix-tuned classifier, saves
// the model zip, loads it in a fresh MLContext, predicts, and exits non-zero naming what went wrong.
// Usage: PackageConsumer <work folder> <expected package version>
using System.Reflection;
using System.Text;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.PTuning;

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: PackageConsumer <work folder> <expected package version>");
    return 2;
}
string work = Directory.CreateDirectory(args[0]).FullName;

// The library loaded is the package's, of the version just packed.
var library = typeof(PrefixTuningTextClassificationOptions).Assembly;
string version = library.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "";
Console.WriteLine($"Microsoft.ML.PTuning {version} from {library.Location}");
if (!version.StartsWith(args[1] + "+", StringComparison.Ordinal) && version != args[1])
    return Fail($"expected package version {args[1]}, loaded {version}");

string[] positive = ["good", "great", "fun", "love"], negative = ["bad", "dull", "awful", "hate"];
string[] filler = ["the", "film", "was", "a", "and", "it", "i", "so"];
var random = new Random(3);
var rows = new List<Review>();
for (int i = 0; i < 48; i++)
{
    bool isPositive = i % 2 == 0;
    var words = Enumerable.Range(0, 3).Select(_ => filler[random.Next(filler.Length)])
        .Append((isPositive ? positive : negative)[random.Next(4)]).Append((isPositive ? positive : negative)[random.Next(4)])
        .OrderBy(_ => random.Next());
    rows.Add(new Review { Text = string.Join(' ', words), Label = isPositive ? "positive" : "negative" });
}
string baseFolder = TinyBert.Write(Path.Combine(work, "base"), positive.Concat(negative).Concat(filler), seed: 1);

var mlContext = new MLContext(seed: 1);
IDataView data = mlContext.Data.LoadFromEnumerable(rows);
var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
    .Append(mlContext.Transforms.Text.PrefixTuning(new PrefixTuningTextClassificationOptions
    {
        BaseModelPath = baseFolder,
        LabelColumnName = "Label",
        Sentence1ColumnName = "Text",
        PrefixLength = 4,
        MaxSequenceLength = 16,
        BatchSize = 8,
        MaxEpochs = 12,
        LearningRate = 1e-1,
        Seed = 7,
    }))
    .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedText", "PredictedLabel"));
ITransformer model = pipeline.Fit(data);
string zip = Path.Combine(work, "reviews.zip");
mlContext.Model.SaveAtomically(model, data.Schema, zip);
Console.WriteLine($"trained and saved {zip} ({new FileInfo(zip).Length:N0} bytes)");

var trained = Predict(mlContext, model, data);
var fresh = new MLContext(seed: 2);
ITransformer loaded = fresh.Model.Load(zip, out _);
var reloaded = Predict(fresh, loaded, fresh.Data.LoadFromEnumerable(rows));

double accuracy = reloaded.Zip(rows).Count(p => p.First.PredictedText == p.Second.Label) / (double)rows.Count;
Console.WriteLine($"reloaded model: training accuracy {accuracy:P1}; first prediction '{reloaded[0].PredictedText}' [{string.Join(", ", reloaded[0].Score.Select(s => s.ToString("F3")))}]");
for (int i = 0; i < rows.Count; i++)
{
    if (reloaded[i].PredictedText != trained[i].PredictedText || reloaded[i].Score.Zip(trained[i].Score).Any(s => Math.Abs(s.First - s.Second) > 1e-5))
        return Fail($"row {i}: the reloaded model predicts '{reloaded[i].PredictedText}' where the trained one predicted '{trained[i].PredictedText}'");
    if (reloaded[i].Score.Length != 2 || Math.Abs(reloaded[i].Score.Sum() - 1) > 1e-4)
        return Fail($"row {i}: Score [{string.Join(", ", reloaded[i].Score)}] is not two class probabilities");
}
// Training did train: the classes are told by keywords, chance is 50 % (seeded: this run gives 87.5 %).
if (accuracy < 0.70)
    return Fail($"the model did not learn the keyword task: training accuracy {accuracy:P1} < 70 %");

// One sentence at a time through a PredictionEngine, as an app serving requests would: the same as the batch.
var engine = fresh.Model.CreatePredictionEngine<Review, Prediction>(loaded);
var one = engine.Predict(new Review { Text = rows[1].Text });
Console.WriteLine($"PredictionEngine: '{rows[1].Text}' -> {one.PredictedText}");
if (one.PredictedText != reloaded[1].PredictedText || one.Score.Zip(reloaded[1].Score).Any(s => Math.Abs(s.First - s.Second) > 1e-5))
    return Fail($"the prediction engine gave '{one.PredictedText}' where Transform gave '{reloaded[1].PredictedText}'");
Console.WriteLine("package check: OK");
return 0;

static List<Prediction> Predict(MLContext mlContext, ITransformer model, IDataView data) =>
    mlContext.Data.CreateEnumerable<Prediction>(model.Transform(data), reuseRowObject: false).ToList();

static int Fail(string message)
{
    Console.Error.WriteLine($"package check: FAILED: {message}");
    return 1;
}

internal sealed class Review
{
    public string Text { get; set; } = "";

    // Read only by training; a PredictionEngine's input type carries it because the pipeline's MapValueToKey reads it.
    public string Label { get; set; } = "";
}

internal sealed class Prediction
{
    public string PredictedText { get; set; } = "";

    public float[] Score { get; set; } = [];
}

/// <summary>A seeded random BERT (hidden 32, 2 layers, 4 heads) as a Hugging Face folder, written with no library.</summary>
internal static class TinyBert
{
    private const int Hidden = 32, Layers = 2, Intermediate = 64, Positions = 64;

    public static string Write(string folder, IEnumerable<string> words, int seed)
    {
        Directory.CreateDirectory(folder);
        string[] vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", .. words.Distinct()];
        File.WriteAllLines(Path.Combine(folder, "vocab.txt"), vocabulary);
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"),
            """{ "do_lower_case": true, "tokenizer_class": "BertTokenizer" }""");
        File.WriteAllText(Path.Combine(folder, "config.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["model_type"] = "bert", ["vocab_size"] = vocabulary.Length, ["hidden_size"] = Hidden,
            ["num_hidden_layers"] = Layers, ["num_attention_heads"] = 4, ["intermediate_size"] = Intermediate,
            ["hidden_act"] = "gelu", ["max_position_embeddings"] = Positions, ["type_vocab_size"] = 2,
            ["layer_norm_eps"] = 1e-12, ["pad_token_id"] = 0,
        }));

        var tensors = new List<(string Name, int[] Shape, bool LayerNormWeight)>
        {
            ("embeddings.word_embeddings.weight", [vocabulary.Length, Hidden], false),
            ("embeddings.position_embeddings.weight", [Positions, Hidden], false),
            ("embeddings.token_type_embeddings.weight", [2, Hidden], false),
        };
        AddLayerNorm(tensors, "embeddings.LayerNorm");
        for (int l = 0; l < Layers; l++)
        {
            string layer = $"encoder.layer.{l}.";
            foreach (string part in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense" })
                AddLinear(tensors, layer + part, Hidden, Hidden);
            AddLayerNorm(tensors, layer + "attention.output.LayerNorm");
            AddLinear(tensors, layer + "intermediate.dense", Intermediate, Hidden);
            AddLinear(tensors, layer + "output.dense", Hidden, Intermediate);
            AddLayerNorm(tensors, layer + "output.LayerNorm");
        }
        AddLinear(tensors, "pooler.dense", Hidden, Hidden);
        WriteSafetensors(Path.Combine(folder, "model.safetensors"), tensors, new Random(seed));
        return folder;
    }

    private static void AddLinear(List<(string, int[], bool)> tensors, string name, int outputs, int inputs)
    {
        tensors.Add((name + ".weight", [outputs, inputs], false));
        tensors.Add((name + ".bias", [outputs], false));
    }

    private static void AddLayerNorm(List<(string, int[], bool)> tensors, string name)
    {
        tensors.Add((name + ".weight", [Hidden], true));
        tensors.Add((name + ".bias", [Hidden], false));
    }

    // safetensors: 8-byte little-endian header length, a JSON header (name -> dtype, shape, byte offsets), the data.
    private static void WriteSafetensors(string path, List<(string Name, int[] Shape, bool LayerNormWeight)> tensors, Random random)
    {
        var header = new Dictionary<string, object>();
        long offset = 0;
        foreach (var (name, shape, _) in tensors)
        {
            long bytes = 4L * shape.Aggregate(1L, (a, b) => a * b);
            header[name] = new { dtype = "F32", shape, data_offsets = new[] { offset, offset + bytes } };
            offset += bytes;
        }
        byte[] json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        int padded = (json.Length + 7) / 8 * 8;
        using var file = new BinaryWriter(File.Create(path));
        file.Write((ulong)padded); // BinaryWriter writes little-endian
        file.Write(json);
        file.Write(Enumerable.Repeat((byte)' ', padded - json.Length).ToArray());
        foreach (var (name, shape, layerNormWeight) in tensors)
        {
            long count = shape.Aggregate(1L, (a, b) => a * b);
            for (long i = 0; i < count; i++)
            {
                // Normal noise (σ 0.2), LayerNorm weights around 1: large enough that attention tells tokens apart.
                float noise = (float)(0.2 * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
                file.Write(layerNormWeight ? 1 + noise : noise);
            }
        }
    }
}
