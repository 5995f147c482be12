using System.Reflection;
using Microsoft.ML.PTuning.Cli;
using Microsoft.ML.PTuning.Cli.Commands;
using Microsoft.ML.PTuning.Tests.Pipeline;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Cli;

/// <summary>
/// Argument parsing, help and the exit codes a script relies on, for input that is wrong before any training starts:
/// each failure is one line on stderr naming the option, file or column, with no stack trace unless --verbose.
/// </summary>
public sealed class CliArgumentTests
{
    [Theory]
    [InlineData("train", "--base-model")]
    [InlineData("evaluate", "--json")]
    [InlineData("predict", "--output-format")]
    [InlineData("sweep", "--prefix-lengths")]
    [InlineData("import-onnx", "--vocab")]
    public void EveryVerbHasHelp(string verb, string option)
    {
        CliResult result = CliRunner.Run(verb, "--help");

        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        Assert.Contains("USAGE", result.StdOut);
        Assert.Contains(option, result.StdOut);
        Assert.Equal("", result.StdErr);
    }

    [Fact]
    public void TheHelpStatesEachTasksDefaults()
    {
        var text = new PrefixTuningTextClassificationOptions();
        var tokens = new PrefixTuningTokenClassificationOptions();
        static string Help(Type settings, string property) =>
            settings.GetProperty(property)!.GetCustomAttribute<System.ComponentModel.DescriptionAttribute>()!.Description;
        Assert.Contains($"{text.PrefixLength} for text classification, {tokens.PrefixLength} for NER", Help(typeof(TrainCommand.Settings), nameof(TrainCommand.Settings.PrefixLength)));
        Assert.Contains($"{text.MaxEpochs} for text classification, {tokens.MaxEpochs} for NER", Help(typeof(TrainingSettings), nameof(TrainingSettings.Epochs)));
        Assert.Contains($"{text.EarlyStoppingPatience} for text classification, {tokens.EarlyStoppingPatience} for NER", Help(typeof(TrainingSettings), nameof(TrainingSettings.Patience)));
        static string rate(double r) => r.ToString("0e0", System.Globalization.CultureInfo.InvariantCulture);
        string rates = Help(typeof(TrainCommand.Settings), nameof(TrainCommand.Settings.LearningRate));
        Assert.Contains($"prefix tuning {rate(text.EffectiveLearningRate)} for text classification, {rate(tokens.EffectiveLearningRate)} for NER", rates);
        foreach (var (method, name) in new[] { (TuningMethod.LinearProbe, "linear probe"), (TuningMethod.FullFineTuning, "full fine-tuning") })
        {
            text.Method = tokens.Method = method;
            Assert.Contains($"{name} {rate(text.EffectiveLearningRate)} and {rate(tokens.EffectiveLearningRate)}", rates);
        }
    }

    [Fact]
    public void TopLevelHelpListsTheVerbsAndTheExitCodes()
    {
        CliResult result = CliRunner.Run("--help");

        Assert.Equal(ExitCodes.Success, result.ExitCode);
        foreach (string verb in new[] { "train", "evaluate", "predict", "sweep", "import-onnx" })
            Assert.Contains(verb, result.StdOut);
        Assert.Contains("130 cancelled", result.StdOut);
    }

    [Theory]
    [InlineData("frobnicate", "frobnicate")]
    [InlineData("--epochs", "train", "--data", "x.csv", "--base-model", "b", "--epochs", "zero")]
    [InlineData("PrefixTuning", "train", "--data", "x.csv", "--base-model", "b", "--method", "Magic")]
    [InlineData("--learning-rate", "train", "--data", "x.csv", "--base-model", "b", "--learning-rate", "2")]
    [InlineData("--prefix-length", "train", "--data", "x.csv", "--base-model", "b", "--prefix-length", "0")]
    [InlineData("--onnx", "train", "--data", "x.csv")]
    [InlineData("--vocab", "train", "--data", "x.csv", "--onnx", "m.onnx")]
    [InlineData("exclude each other", "train", "--data", "x.csv", "--base-model", "b", "--onnx", "m.onnx", "--vocab", "v.txt")]
    [InlineData("--prefix-lengths", "sweep", "--data", "x.csv", "--base-model", "b", "--prefix-lengths", "4,x")]
    [InlineData("--strategy", "sweep", "--data", "x.csv", "--base-model", "b", "--strategy", "bayes")]
    [InlineData("validation", "sweep", "--data", "x.csv", "--base-model", "b", "--validation-fraction", "0")]
    [InlineData("nope", "predict", "--model", "m.zip", "--nope")]
    [InlineData("--output", "import-onnx", "--onnx", "m.onnx", "--vocab", "v.txt")]
    public void CommandLineMistakesExitWithOneAndNameTheOption(string named, params string[] args)
    {
        CliResult result = CliRunner.Run(args);

        Assert.True(result.ExitCode == ExitCodes.UsageError, result.ToString());
        AssertOneLineError(result, named);
    }

    [Fact]
    public void MissingOrMalformedDataExitsWithTwoAndNamesTheFile()
    {
        string folder = TestPaths.NewTempFolder("cli-data");
        string baseModel = TinyBaseModel.Get("bert");
        string csv = CliRunner.WriteCsv(folder, "train.csv", TinyData.Text(2, seed: 1));
        string conll = Path.Combine(folder, "bad.conll");
        File.WriteAllLines(conll, ["card B-CARD", "lonely", ""]);

        CliResult missing = CliRunner.Run("train", "--data", Path.Combine(folder, "nope.csv"), "--base-model", baseModel);
        CliResult column = CliRunner.Run("train", "--data", csv, "--base-model", baseModel, "--label-column", "Intent");
        CliResult badLine = CliRunner.Run("train", "--task", "ner", "--data", conll, "--base-model", baseModel);

        Assert.True(missing.ExitCode == ExitCodes.DataError, missing.ToString());
        AssertOneLineError(missing, "nope.csv");
        Assert.True(column.ExitCode == ExitCodes.DataError, column.ToString());
        AssertOneLineError(column, "'Intent' (--label-column)");
        Assert.Contains("train.csv", column.StdErr);
        Assert.True(badLine.ExitCode == ExitCodes.DataError, badLine.ToString());
        AssertOneLineError(badLine, "line 2");
    }

    [Fact]
    public void UnreadableModelsExitWithThreeAndNameTheModel()
    {
        string folder = TestPaths.NewTempFolder("cli-model");
        string csv = CliRunner.WriteCsv(folder, "train.csv", TinyData.Text(2, seed: 1));
        string notAZip = Path.Combine(folder, "model.zip");
        File.WriteAllText(notAZip, "not a zip");
        string notOnnx = Path.Combine(folder, "model.onnx");
        File.WriteAllBytes(notOnnx, [1, 2, 3, 4, 5, 6, 7, 8]);
        string vocab = Path.Combine(folder, "vocab.txt");
        File.WriteAllLines(vocab, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "card"]);
        string noConfig = TestPaths.NewTempFolder("cli-no-config");

        CliResult noFolder = CliRunner.Run("train", "--data", csv, "--base-model", Path.Combine(folder, "no-such-base"));
        CliResult emptyFolder = CliRunner.Run("train", "--data", csv, "--base-model", noConfig);
        CliResult badZip = CliRunner.Run("predict", "--model", notAZip, "--input", "-");
        CliResult badOnnx = CliRunner.Run("import-onnx", "--onnx", notOnnx, "--vocab", vocab, "--output", Path.Combine(folder, "hf"));

        Assert.True(noFolder.ExitCode == ExitCodes.ModelError, noFolder.ToString());
        AssertOneLineError(noFolder, "no-such-base");
        Assert.True(emptyFolder.ExitCode == ExitCodes.ModelError, emptyFolder.ToString());
        AssertOneLineError(emptyFolder, "config.json");
        Assert.True(badZip.ExitCode == ExitCodes.ModelError, badZip.ToString());
        AssertOneLineError(badZip, "model.zip");
        Assert.True(badOnnx.ExitCode == ExitCodes.ModelError, badOnnx.ToString());
        AssertOneLineError(badOnnx, "model.onnx");
        Assert.False(Directory.Exists(Path.Combine(folder, "hf")));
    }

    [Fact]
    public void VerboseAddsTheStackTrace()
    {
        string folder = TestPaths.NewTempFolder("cli-verbose");
        File.WriteAllText(Path.Combine(folder, "model.zip"), "not a zip");

        CliResult quiet = CliRunner.Run("predict", "--model", Path.Combine(folder, "model.zip"));
        CliResult verbose = CliRunner.Run("predict", "--model", Path.Combine(folder, "model.zip"), "--verbose");

        Assert.Equal(ExitCodes.ModelError, quiet.ExitCode);
        Assert.Equal(ExitCodes.ModelError, verbose.ExitCode);
        Assert.DoesNotContain("   at ", quiet.StdErr);
        Assert.Contains("   at ", verbose.StdErr);
    }

    [Fact]
    public void HeaderFieldsAreSplitOnCommasOutsideQuotes()
    {
        Assert.Equal(["Text", "Label"], Microsoft.ML.PTuning.Cli.Data.InputFiles.SplitHeader("Text,Label"));
        Assert.Equal(["a,b", "say \"hi\"", "c"], Microsoft.ML.PTuning.Cli.Data.InputFiles.SplitHeader("\"a,b\",\"say \"\"hi\"\"\", c "));
    }

    [Fact]
    public void PredictionFieldsAreQuotedOnlyWhenCsvNeedsIt()
    {
        Assert.Equal("plain text", Microsoft.ML.PTuning.Cli.Output.PredictionWriter.Csv("plain text"));
        Assert.Equal("\"a, b\"", Microsoft.ML.PTuning.Cli.Output.PredictionWriter.Csv("a, b"));
        Assert.Equal("\"say \"\"hi\"\"\"", Microsoft.ML.PTuning.Cli.Output.PredictionWriter.Csv("say \"hi\""));
    }

    private static void AssertOneLineError(CliResult result, string named)
    {
        string[] lines = result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, result.ToString());
        Assert.StartsWith("ptuning: ", lines[0]);
        Assert.Contains(named, lines[0]);
        Assert.DoesNotContain("   at ", result.StdErr);
        Assert.Equal("", result.StdOut);
    }
}
