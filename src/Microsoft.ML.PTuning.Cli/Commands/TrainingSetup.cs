using Microsoft.ML.PTuning.Cli.Data;
using Spectre.Console;

namespace Microsoft.ML.PTuning.Cli.Commands;

/// <summary>
/// What <c>train</c> and <c>sweep</c> share: the base model (a folder, or an ONNX file imported once), the training and
/// validation views with the label as a key, and the library's options filled from the command line.
/// </summary>
internal sealed class TrainingSetup
{
    /// <summary>The library's option names and the flags that set them, so its errors name what the user typed.</summary>
    private static readonly Dictionary<string, string> OptionFlags = new(StringComparer.Ordinal)
    {
        [nameof(PrefixTuningOptions.BaseModelPath)] = "--base-model",
        [nameof(PrefixTuningOptions.Method)] = "--method",
        [nameof(PrefixTuningOptions.PrefixLength)] = "--prefix-length",
        [nameof(PrefixTuningOptions.PrefixDepth)] = "--prefix-length",
        [nameof(PrefixTuningOptions.LearningRate)] = "--learning-rate",
        [nameof(PrefixTuningOptions.MaxEpochs)] = "--epochs",
        [nameof(PrefixTuningOptions.BatchSize)] = "--batch-size",
        [nameof(PrefixTuningOptions.MaxSequenceLength)] = "--max-length",
        [nameof(PrefixTuningOptions.Precision)] = "--precision",
        [nameof(PrefixTuningOptions.EarlyStoppingPatience)] = "--patience",
        [nameof(PrefixTuningOptions.Device)] = "--device",
        ["device"] = "--device",
    };

    private readonly string _dataPath;

    private TrainingSetup(MLContext mlContext, CliTask task, string baseModel, string dataPath, IDataView train, IDataView? validation,
        PrefixTuningOptions options)
    {
        _dataPath = dataPath;
        MLContext = mlContext;
        Task = task;
        BaseModel = baseModel;
        Train = train;
        Validation = validation;
        Options = options;
    }

    public MLContext MLContext { get; }

    public CliTask Task { get; }

    /// <summary>The Hugging Face folder trained over.</summary>
    public string BaseModel { get; }

    /// <summary>Training rows with <see cref="DataColumns.Label"/> as a key (vector of keys for NER).</summary>
    public IDataView Train { get; }

    /// <summary>Validation rows mapped with the training rows' keys, or null.</summary>
    public IDataView? Validation { get; }

    /// <summary>Text or token classification options; ValidationSet, seed and cancellation are set.</summary>
    public PrefixTuningOptions Options { get; }

    /// <summary>Reads the base model and the data as <paramref name="settings"/> say.</summary>
    public static TrainingSetup Create(TrainingSettings settings, string outputPath, CliEnvironment environment, IAnsiConsole status,
        double defaultValidationFraction)
    {
        string train = InputFiles.RequireFile(settings.Data, "--data");
        string? validationFile = settings.Validation is null ? null : InputFiles.RequireFile(settings.Validation, "--validation");
        string baseModel = ResolveBaseModel(settings, outputPath, status);

        var mlContext = new MLContext(seed: settings.Seed);
        IDataView trainRows = Load(mlContext, settings, train);
        IDataView? validationRows = validationFile is null ? null : Load(mlContext, settings, validationFile);
        double fraction = settings.ValidationFraction ?? (validationFile is null ? defaultValidationFraction : 0);
        if (validationRows is null && fraction > 0)
        {
            var split = mlContext.Data.TrainTestSplit(trainRows, testFraction: fraction, seed: settings.Seed);
            trainRows = split.TrainSet;
            validationRows = split.TestSet;
        }

        string labelSource = settings.Task == CliTask.Ner ? DataColumns.Tags : DataColumns.LabelText;
        var toKey = CliException.Wrap(ExitCodes.DataError, $"--data '{settings.Data}'",
            () => mlContext.Transforms.Conversion.MapValueToKey(DataColumns.Label, labelSource).Fit(trainRows));
        IDataView keyedTrain = toKey.Transform(trainRows);
        IDataView? keyedValidation = validationRows is null ? null : toKey.Transform(validationRows);

        PrefixTuningOptions options = settings.Task == CliTask.Ner
            ? new PrefixTuningTokenClassificationOptions { SentenceColumnName = DataColumns.Text }
            : new PrefixTuningTextClassificationOptions
            {
                Sentence1ColumnName = DataColumns.Text,
                Sentence2ColumnName = settings.Text2Column is null ? null : DataColumns.Text2,
            };
        options.BaseModelPath = baseModel;
        options.LabelColumnName = DataColumns.Label;
        options.PredictionColumnName = DataColumns.PredictedLabel;
        options.Method = settings.Method;
        options.MaxEpochs = settings.Epochs ?? options.MaxEpochs;
        options.BatchSize = settings.BatchSize;
        options.MaxSequenceLength = settings.MaxLength;
        options.Precision = settings.Precision;
        options.EarlyStoppingPatience = settings.Patience ?? options.EarlyStoppingPatience;
        options.Seed = settings.Seed;
        options.Device = settings.Device;
        options.EmbedBaseModel = settings.EmbedBase;
        options.ValidationSet = keyedValidation;
        options.CancellationToken = environment.Cancellation;
        return new TrainingSetup(mlContext, settings.Task, baseModel, train, keyedTrain, keyedValidation, options);
    }

    /// <summary>
    /// Runs a library call that trains, turning its failures into exit codes: an option out of range is a usage error
    /// naming the flag, a failure naming the base model folder a model error, anything else about the input a data error.
    /// </summary>
    public T Run<T>(Func<T> training)
    {
        try
        {
            return training();
        }
        catch (Exception e) when (CliException.IsInputFailure(e))
        {
            Exception inner = CliException.Innermost(e);
            string message = inner.Message;
            if (inner is ArgumentException { ParamName: string param } && OptionFlags.TryGetValue(param, out string? flag))
                throw new CliException(ExitCodes.UsageError, $"{flag}: {message}", e);
            if (message.Contains(BaseModel, StringComparison.Ordinal) || message.Contains(Path.GetFileName(BaseModel), StringComparison.Ordinal)
                || message.Contains("config.json", StringComparison.Ordinal))
            {
                throw CliException.Model($"base model '{BaseModel}': {message}", e);
            }

            throw CliException.InputData($"--data '{_dataPath}': {message}", e);
        }
    }

    /// <summary>Trains one model with <see cref="Options"/> on <see cref="Train"/>.</summary>
    public PrefixTuningTransformer Fit() => Run(() => Options switch
    {
        PrefixTuningTokenClassificationOptions token => MLContext.Transforms.Text.PrefixTuning(token).Fit(Train),
        PrefixTuningTextClassificationOptions text => MLContext.Transforms.Text.PrefixTuning(text).Fit(Train),
        _ => throw new InvalidOperationException($"unknown options type {Options.GetType().Name}"),
    });

    /// <summary>A sweeper over <see cref="Options"/> (its prefix length and learning rate are what the sweep varies).</summary>
    public PrefixTuningSweeper CreateSweeper(PrefixTuningSweepOptions sweepOptions) => Run(() => Options switch
    {
        PrefixTuningTokenClassificationOptions token => new PrefixTuningSweeper(MLContext, token, sweepOptions),
        PrefixTuningTextClassificationOptions text => new PrefixTuningSweeper(MLContext, text, sweepOptions),
        _ => throw new InvalidOperationException($"unknown options type {Options.GetType().Name}"),
    });

    /// <summary>Saves <paramref name="model"/> to <paramref name="path"/> with <c>SaveAtomically</c>; returns the full path.</summary>
    public string Save(PrefixTuningTransformer model, string path)
    {
        string full = Path.GetFullPath(path);
        return CliException.Wrap(ExitCodes.ModelError, $"saving '{path}'", () =>
        {
            MLContext.Model.SaveAtomically(model, Train.Schema, full);
            return full;
        });
    }

    private static IDataView Load(MLContext mlContext, TrainingSettings settings, string path) =>
        InputFiles.Resolve(settings.Format, path, settings.Task, labeled: true) switch
        {
            DataFormat.Conll when settings.Task == CliTask.Text =>
                throw CliException.Usage($"'{path}' is read as CoNLL, which is for --task ner; text classification reads CSV (--format csv)."),
            DataFormat.Csv when settings.Task == CliTask.Ner =>
                throw CliException.Usage($"'{path}' is read as CSV; --task ner reads CoNLL (--format conll)."),
            DataFormat.Conll => InputFiles.LoadConll(mlContext, path),
            _ => InputFiles.LoadLabeledCsv(mlContext, path, settings.ColumnNames),
        };

    /// <summary>The base model folder: --base-model as given, or --onnx imported into --import-to (or beside the output).</summary>
    private static string ResolveBaseModel(TrainingSettings settings, string outputPath, IAnsiConsole status)
    {
        if (settings.BaseModel is string folder)
        {
            if (!Directory.Exists(folder))
                throw CliException.Model($"--base-model: folder '{folder}' does not exist.");
            if (!File.Exists(Path.Combine(folder, "config.json")))
                throw CliException.Model($"--base-model: folder '{folder}' has no config.json; expected a Hugging Face model folder (config.json, weights, tokenizer files).");
            return Path.GetFullPath(folder);
        }

        string target = settings.ImportTo ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outputPath))!,
            Path.GetFileNameWithoutExtension(outputPath) + "-base");
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
        {
            throw CliException.Usage($"--import-to: folder '{target}' already exists and is not empty; " +
                "pass it as --base-model to train on it again, or remove it to import anew.");
        }
        string imported = OnnxImport.Run(settings.Onnx!, settings.Vocab!, target);
        status.WriteLine($"Imported {Path.GetFileName(settings.Onnx)} into {imported}");
        return imported;
    }
}
