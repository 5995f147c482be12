using Microsoft.ML.Data;
using Microsoft.ML.PTuning.Cli.Data;

namespace Microsoft.ML.PTuning.Cli.Models;

/// <summary>
/// A model zip loaded for evaluate and predict: the transformer, what it predicts (found from its output schema) and
/// whether it reads sentence pairs. Every failure is a model error naming the zip.
/// </summary>
internal sealed class LoadedModel
{
    private LoadedModel(string path, ITransformer model, PrefixTuningTransformer prefixTuning, CliTask task, bool pairs)
    {
        Path = path;
        Model = model;
        PrefixTuning = prefixTuning;
        Task = task;
        ReadsPairs = pairs;
    }

    public string Path { get; }

    public ITransformer Model { get; }

    public PrefixTuningTransformer PrefixTuning { get; }

    public CliTask Task { get; }

    /// <summary>True when the model reads <see cref="DataColumns.Text2"/> as well (trained on sentence pairs).</summary>
    public bool ReadsPairs { get; }

    /// <summary>The name of predicted key <paramref name="key"/> (1-based; 0 is missing).</summary>
    public string ClassName(uint key) =>
        key == 0 ? "" : PrefixTuning.ClassNames is { } names && key <= names.Count ? names[(int)key - 1] : key.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Loads <paramref name="path"/> into <paramref name="mlContext"/>.</summary>
    public static LoadedModel Load(MLContext mlContext, string? path)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw CliException.Usage("--model <ZIP> is required.");
        if (!File.Exists(path))
            throw CliException.Model($"--model: file '{path}' was not found.");
        string fullPath = System.IO.Path.GetFullPath(path);
        ITransformer model = CliException.Wrap(ExitCodes.ModelError, $"model zip '{path}'", () => mlContext.Model.Load(fullPath, out _));
        PrefixTuningTransformer prefixTuning = model as PrefixTuningTransformer
            ?? (model as IEnumerable<ITransformer>)?.OfType<PrefixTuningTransformer>().FirstOrDefault()
            ?? throw CliException.Model($"model zip '{path}' holds no prefix-tuning transformer; ptuning reads zips that 'ptuning train' or the library saved.");

        foreach (bool pairs in new[] { false, true })
        {
            DataViewSchema? output = TryOutputSchema(model, pairs);
            if (output?.GetColumnOrNull(DataColumns.PredictedLabel) is DataViewSchema.Column predicted)
                return new LoadedModel(path, model, prefixTuning, predicted.Type is VectorDataViewType ? CliTask.Ner : CliTask.Text, pairs);
        }
        throw CliException.Model($"model zip '{path}' does not read a '{DataColumns.Text}' text column into '{DataColumns.PredictedLabel}'; " +
            "ptuning predicts with zips that 'ptuning train' or 'ptuning sweep' saved.");
    }

    private static DataViewSchema? TryOutputSchema(ITransformer model, bool pairs)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(DataColumns.Text, TextDataViewType.Instance);
        if (pairs)
            builder.AddColumn(DataColumns.Text2, TextDataViewType.Instance);
        try
        {
            return model.GetOutputSchema(builder.ToSchema());
        }
        catch (Exception e) when (CliException.IsInputFailure(e))
        {
            return null;
        }
    }
}
