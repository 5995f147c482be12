using System.Text.Json;
using Microsoft.ML.PTuning.Cli;
using Microsoft.ML.PTuning.Tests.Pipeline;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.PTuning.Tests.Cli;

/// <summary>
/// The tool end to end on a tiny base model and tiny data: train → evaluate → predict for text and for NER, a sweep,
/// and Ctrl+C. Trains, so it runs in the pipeline collection (the torch generator is process-wide).
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class CliEndToEndTests(ITestOutputHelper output)
{
    [Fact]
    public void TextClassificationTrainsEvaluatesAndPredicts()
    {
        string folder = TestPaths.NewTempFolder("cli-text");
        TextRow[] data = TinyData.Text(8, seed: 1);
        string train = CliRunner.WriteCsv(folder, "train.csv", data);
        string zip = Path.Combine(folder, "model.zip");

        CliResult trained = CliRunner.Run(["train", "--data", train, "--base-model", TinyBaseModel.Get("roberta"), "-o", zip, "--epochs", "4", .. CliRunner.FastTraining]);
        output.WriteLine(trained.StdOut);
        Assert.True(trained.ExitCode == ExitCodes.Success, trained.ToString());
        Assert.Contains("epoch 4/4", trained.StdOut);
        Assert.Contains("ETA", trained.StdOut);
        Assert.True(File.Exists(zip));

        string metricsFile = Path.Combine(folder, "metrics.json");
        CliResult evaluated = CliRunner.Run("evaluate", "--model", zip, "--data", train, "--json", metricsFile);
        Assert.True(evaluated.ExitCode == ExitCodes.Success, evaluated.ToString());
        Assert.Contains("micro accuracy", evaluated.StdOut);
        double accuracy;
        using (var metrics = JsonDocument.Parse(File.ReadAllText(metricsFile)))
        {
            accuracy = metrics.RootElement.GetProperty("microAccuracy").GetDouble();
            Assert.Equal(data.Length, metrics.RootElement.GetProperty("rows").GetInt32());
        }

        // stdin to stdout: stdout carries the CSV and nothing else; the count goes to stderr.
        CliResult predicted = CliRunner.Run("my card was lost\nmoney left in my account\n", CancellationToken.None, "predict", "--model", zip);
        Assert.True(predicted.ExitCode == ExitCodes.Success, predicted.ToString());
        string[] lines = predicted.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("Text,PredictedLabel,Score", lines[0]);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("my card was lost,", lines[1]);
        Assert.Contains(lines[1].Split(',')[1], TinyData.Classes);
        Assert.Contains("Predicted 2 row(s)", predicted.StdErr);

        // A file to JSON lines: one object per row, the scores of every class.
        string jsonl = Path.Combine(folder, "predictions.jsonl");
        CliResult toFile = CliRunner.Run("predict", "--model", zip, "--input", train, "--output", jsonl);
        Assert.True(toFile.ExitCode == ExitCodes.Success, toFile.ToString());
        string[] rows = File.ReadAllLines(jsonl);
        Assert.Equal(data.Length, rows.Length);
        using var first = JsonDocument.Parse(rows[0]);
        Assert.Equal(TinyData.Classes.Order(), first.RootElement.GetProperty("scores").EnumerateObject().Select(p => p.Name).Order());
        Assert.False(File.Exists(jsonl + ".partial"));

        // evaluate maps the file's labels to the model's classes as predict names them: the two agree on every row.
        string[] labels = rows.Select(r => JsonDocument.Parse(r).RootElement.GetProperty("predictedLabel").GetString()!).ToArray();
        Assert.All(labels, l => Assert.Contains(l, TinyData.Classes));
        double agreed = labels.Zip(data, (p, gold) => p == gold.Label ? 1.0 : 0.0).Average();
        output.WriteLine($"training accuracy {accuracy:P1}; predictions matching the labels {agreed:P1}");
        Assert.Equal(agreed, accuracy, 6);
    }

    [Fact]
    public void EvaluationNamesALabelTheModelDoesNotKnow()
    {
        string folder = TestPaths.NewTempFolder("cli-unknown-label");
        string train = CliRunner.WriteCsv(folder, "train.csv", TinyData.Text(4, seed: 1));
        string test = CliRunner.WriteCsv(folder, "test.csv", [new TextRow { Sentence1 = "my dog", Label = "pets" }]);
        string zip = Path.Combine(folder, "model.zip");
        Assert.Equal(ExitCodes.Success, CliRunner.Run(["train", "--data", train, "--base-model", TinyBaseModel.Get("bert"), "-o", zip, "--epochs", "1", .. CliRunner.FastTraining]).ExitCode);

        CliResult result = CliRunner.Run("evaluate", "--model", zip, "--data", test);

        Assert.True(result.ExitCode == ExitCodes.DataError, result.ToString());
        Assert.Contains("label 'pets'", result.StdErr);
        Assert.Contains("test.csv", result.StdErr);
    }

    [Fact]
    public void EntityTaggerTrainsEvaluatesAndPredicts()
    {
        string folder = TestPaths.NewTempFolder("cli-ner");
        TokenRow[] data = TinyData.Tokens(24, seed: 2);
        string train = CliRunner.WriteConll(folder, "train.conll", data);
        string zip = Path.Combine(folder, "ner.zip");

        CliResult trained = CliRunner.Run(["train", "--task", "ner", "--data", train, "--base-model", TinyBaseModel.Get("roberta"), "-o", zip, "--epochs", "3", .. CliRunner.FastTraining]);
        Assert.True(trained.ExitCode == ExitCodes.Success, trained.ToString());

        CliResult evaluated = CliRunner.Run("evaluate", "--model", zip, "--data", train, "--json", "-");
        Assert.True(evaluated.ExitCode == ExitCodes.Success, evaluated.ToString());
        double tokenAccuracy;
        using (var metrics = JsonDocument.Parse(evaluated.StdOut))
        {
            tokenAccuracy = metrics.RootElement.GetProperty("tokenAccuracy").GetDouble();
            output.WriteLine($"entity F1 {metrics.RootElement.GetProperty("f1").GetDouble():F3}, token accuracy {tokenAccuracy:P1}");
            Assert.Equal(data.Length, metrics.RootElement.GetProperty("sentences").GetInt32());
            Assert.Equal(["CARD", "MONEY", "TRANSFER"], metrics.RootElement.GetProperty("perEntityType").EnumerateArray().Select(e => e.GetProperty("type").GetString()));
        }

        // Predicting the CoNLL file itself gives the tags evaluate scored: their word accuracy is its token accuracy.
        CliResult onFile = CliRunner.Run("predict", "--model", zip, "--input", train, "--output-format", "jsonl");
        Assert.True(onFile.ExitCode == ExitCodes.Success, onFile.ToString());
        string[][] tags = onFile.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToArray()).ToArray();
        Assert.Equal(data.Select(r => r.Tags.Length), tags.Select(t => t.Length));
        double words = data.Zip(tags, (gold, predicted) => gold.Tags.Zip(predicted, (g, p) => g == p ? 1 : 0).Sum()).Sum();
        Assert.Equal(words / data.Sum(r => r.Tags.Length), tokenAccuracy, 6);

        CliResult predicted = CliRunner.Run("my card was lost\n", CancellationToken.None, "predict", "--model", zip, "--output-format", "jsonl");
        Assert.True(predicted.ExitCode == ExitCodes.Success, predicted.ToString());
        using var line = JsonDocument.Parse(predicted.StdOut.Trim());
        Assert.Equal(["my", "card", "was", "lost"], line.RootElement.GetProperty("words").EnumerateArray().Select(w => w.GetString()));
        Assert.Equal(4, line.RootElement.GetProperty("tags").GetArrayLength());
    }

    [Fact]
    public void SweepReportsEveryTrialAndSavesTheBest()
    {
        string folder = TestPaths.NewTempFolder("cli-sweep");
        string train = CliRunner.WriteCsv(folder, "train.csv", TinyData.Text(8, seed: 1));
        string validation = CliRunner.WriteCsv(folder, "validation.csv", TinyData.Text(3, seed: 2));
        string zip = Path.Combine(folder, "best.zip"), report = Path.Combine(folder, "report.json");

        CliResult result = CliRunner.Run("sweep", "--data", train, "--validation", validation, "--base-model", TinyBaseModel.Get("bert"),
            "--prefix-lengths", "2,4", "--learning-rates", "0.03", "--strategy", "grid", "--epochs", "1", "--max-length", "32", "--batch-size", "8",
            "-o", zip, "--report", report);

        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        Assert.Contains("trial 2/2", result.StdOut);
        using var json = JsonDocument.Parse(File.ReadAllText(report));
        Assert.Equal([2, 4], json.RootElement.GetProperty("trials").EnumerateArray().Select(t => t.GetProperty("prefixLength").GetInt32()));
        Assert.InRange(json.RootElement.GetProperty("baseModelLoads").GetInt32(), 0, 1); // one base for all trials (0: already cached)
        Assert.True(File.Exists(zip));
        Assert.Equal(ExitCodes.Success, CliRunner.Run("evaluate", "--model", zip, "--data", validation).ExitCode);
    }

    [Fact]
    public void CtrlCEndsTrainingWith130AndWritesNoModel()
    {
        string folder = TestPaths.NewTempFolder("cli-cancel");
        string train = CliRunner.WriteCsv(folder, "train.csv", TinyData.Text(4, seed: 1));
        string zip = Path.Combine(folder, "model.zip");
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();

        CliResult result = CliRunner.Run("", cancel.Token, ["train", "--data", train, "--base-model", TinyBaseModel.Get("bert"), "-o", zip, .. CliRunner.FastTraining]);

        Assert.True(result.ExitCode == ExitCodes.Cancelled, result.ToString());
        Assert.Contains("cancelled", result.StdErr);
        Assert.False(File.Exists(zip));
    }
}
