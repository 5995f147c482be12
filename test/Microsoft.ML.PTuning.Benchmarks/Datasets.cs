using Microsoft.ML.PTuning.Data;

namespace Microsoft.ML.PTuning.Benchmarks;

/// <summary>A text-classification row (Banking77).</summary>
internal sealed class TextRow
{
    public string Text { get; set; } = "";
    public string Intent { get; set; } = "";
}

/// <summary>A token-classification row (WNUT-17): the words joined by single spaces and one tag per word.</summary>
internal sealed class TaggedRow
{
    public string Text { get; set; } = "";
    public string[] Tags { get; set; } = Array.Empty<string>();
}

/// <summary>Train / validation / test splits of one dataset, already subsampled for the profile.</summary>
/// <remarks><see cref="Classes"/>: every label of the full training file, so a subsample that lacks one still maps test labels to keys.</remarks>
internal sealed record Splits<T>(string Name, IReadOnlyList<T> Train, IReadOnlyList<T> Validation, IReadOnlyList<T> Test, string Description,
    IReadOnlyList<string> Classes);

/// <summary>Reads the shared datasets (never copied into the repo) and subsamples them with a fixed seed.</summary>
internal static class Datasets
{
    public const int Seed = 1;

    /// <summary>
    /// Banking77: the train file shuffled with <see cref="Seed"/>, its first 10 % held out as validation; the test file
    /// as test. Limits (null = all) take the first rows of each shuffled part.
    /// </summary>
    public static Splits<TextRow> Banking77(MLContext mlContext, string dataFolder, int? trainLimit, int? validationLimit, int? testLimit)
    {
        string folder = Require(dataFolder, "banking77");
        TextRow[] train = ReadCsv(mlContext, Path.Combine(folder, "train.csv"));
        TextRow[] test = ReadCsv(mlContext, Path.Combine(folder, "test.csv"));
        new Random(Seed).Shuffle(train);
        new Random(Seed + 1).Shuffle(test);
        int held = (int)Math.Round(train.Length * 0.1);
        var validation = train.Take(held).Take(validationLimit ?? int.MaxValue).ToArray();
        var rest = train.Skip(held).Take(trainLimit ?? int.MaxValue).ToArray();
        var testRows = test.Take(testLimit ?? int.MaxValue).ToArray();
        string description = $"Banking77: {train.Length:N0} train rows, 10 % ({held:N0}) held out as validation (seed {Seed}); " +
            $"used {rest.Length:N0} train / {validation.Length:N0} validation / {testRows.Length:N0} of {test.Length:N0} test rows; " +
            $"{train.Select(r => r.Intent).Distinct().Count()} intents.";
        return new Splits<TextRow>("banking77", rest, validation, testRows, description,
            train.Select(r => r.Intent).Distinct().Order(StringComparer.Ordinal).ToList());
    }

    /// <summary>WNUT-17: train, dev (validation) and annotated test files; limits take a seeded sample of each.</summary>
    public static Splits<TaggedRow> Wnut17(string dataFolder, int? trainLimit, int? validationLimit, int? testLimit)
    {
        string folder = Require(dataFolder, "wnut17");
        TaggedRow[] Read(string file, int? limit, int seed)
        {
            var rows = ConllReader.Read(Path.Combine(folder, file))
                .Select(s => new TaggedRow { Text = string.Join(' ', s.Tokens.Select(OneWord)), Tags = s.Tags })
                .ToArray();
            if (limit is int n && n < rows.Length)
            {
                new Random(seed).Shuffle(rows);
                rows = rows.Take(n).ToArray();
            }
            return rows;
        }
        var allTags = Read("wnut17train.conll", null, Seed).SelectMany(r => r.Tags).Distinct().Order(StringComparer.Ordinal).ToList();
        var train = Read("wnut17train.conll", trainLimit, Seed);
        var dev = Read("emerging.dev.conll", validationLimit, Seed + 1);
        var test = Read("emerging.test.annotated", testLimit, Seed + 2);
        string description = $"WNUT-17: used {train.Length:N0} train / {dev.Length:N0} dev (validation) / {test.Length:N0} test sentences " +
            $"(full files: 3,394 / 1,009 / 1,287); BIO tags over {train.SelectMany(r => r.Tags).Where(t => t != "O").Select(t => t[2..]).Distinct().Count()} entity types.";
        return new Splits<TaggedRow>("wnut17", train, dev, test, description, allTags);
    }

    // The estimator splits sentences on white space; a token holding some (a no-break space) must stay one word.
    private static string OneWord(string token) =>
        token.Any(char.IsWhiteSpace) ? new string(token.Select(c => char.IsWhiteSpace(c) ? '_' : c).ToArray()) : token;

    private static TextRow[] ReadCsv(MLContext mlContext, string path)
    {
        IDataView view = TextLabelCsv.Load(mlContext, path, nameof(TextRow.Text), nameof(TextRow.Intent));
        return mlContext.Data.CreateEnumerable<TextRow>(view, reuseRowObject: false).ToArray();
    }

    private static string Require(string dataFolder, string name)
    {
        string folder = Path.Combine(dataFolder, name);
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Dataset folder '{folder}' is missing; pass --data pointing at the folder that holds banking77/ and wnut17/.");
        return folder;
    }
}
