namespace Microsoft.ML.PTuning.Benchmarks;

/// <summary>The command line: <c>&lt;quality|speed|all|projection|depth&gt; [--quick] [--extended] [--report] [--data DIR] [--out DIR] [--model HF-folder]</c>.</summary>
internal sealed record BenchmarkArguments(string Suite, bool Quick, string DataFolder, string OutputFolder, string? ModelFolder, bool Extended = false, bool ReportOnly = false)
{
    public const string Usage = "Usage: dotnet run -c Release --project test/Microsoft.ML.PTuning.Benchmarks -- <quality|speed|all|projection|precision|depth> " +
        "[--quick] [--extended (quality: also the rows past the profile's budget)] [--report (quality: rewrite the reports from trials.jsonl, train nothing)] [--data DIR (default ../shared/data beside the repo)] [--out DIR (default artifacts/bench)] [--model <Hugging Face folder>]";

    public bool RunsQuality => Suite is "quality" or "all";

    public bool RunsSpeed => Suite is "speed" or "all";

    /// <summary>The speed suite's precision rows alone (they also run inside "speed").</summary>
    public bool RunsPrecisionOnly => Suite is "precision";

    /// <summary>The study of the prefix MLP's learning rate; not part of "all".</summary>
    public bool RunsProjection => Suite is "projection";

    /// <summary>Partial depth against full depth (quality on Banking77 and WNUT-17, and the epoch rows); not part of "all".</summary>
    public bool RunsDepth => Suite is "depth";

    /// <summary>Parses the arguments; relative defaults resolve against the repo root (the folder holding Microsoft.ML.PTuning.sln).</summary>
    public static BenchmarkArguments Parse(string[] args)
    {
        string? suite = null, data = null, output = null, model = null;
        bool quick = false, extended = false, reportOnly = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value. {Usage}");
            switch (args[i])
            {
                case "--quick":
                    quick = true;
                    break;
                case "--extended":
                    extended = true;
                    break;
                case "--report":
                    reportOnly = true;
                    break;
                case "--data":
                    data = Value();
                    break;
                case "--out":
                    output = Value();
                    break;
                case "--model":
                    model = Value();
                    break;
                case "quality" or "speed" or "all" or "projection" or "precision" or "depth" when suite == null:
                    suite = args[i];
                    break;
                default:
                    throw new ArgumentException($"Unknown argument '{args[i]}'. {Usage}");
            }
        }
        if (suite == null)
            throw new ArgumentException($"Name a suite. {Usage}");

        // The repo root is looked for only for a default: a copied build with --data and --out runs from anywhere.
        data = Path.GetFullPath(data ?? DefaultData(RepoRoot()));
        if (!Directory.Exists(data))
            throw new DirectoryNotFoundException($"--data '{data}' is not a folder; it must hold banking77/ and wnut17/ (default: ../shared/data beside the repo).");
        if (model != null && !File.Exists(Path.Combine(model, "config.json")))
            throw new DirectoryNotFoundException($"--model '{model}' is not a Hugging Face model folder (no config.json).");
        output = Path.GetFullPath(output ?? Path.Combine(RepoRoot(), "artifacts", "bench"));
        Directory.CreateDirectory(output);
        return new BenchmarkArguments(suite, quick, data, output, model == null ? null : Path.GetFullPath(model), extended, reportOnly);
    }

    /// <summary>
    /// <c>../shared/data</c> beside the repo root; from a worktree deeper down, the first <c>shared/data</c> beside a
    /// folder above the root (as the tests look for it).
    /// </summary>
    private static string DefaultData(string root)
    {
        for (DirectoryInfo? dir = new DirectoryInfo(root).Parent; dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(candidate))
                return candidate;
        }
        return Path.Combine(root, "..", "shared", "data");
    }

    /// <summary>The first folder above the program (or the working directory) that holds Microsoft.ML.PTuning.sln.</summary>
    public static string RepoRoot()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (DirectoryInfo? dir = new(start); dir != null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Microsoft.ML.PTuning.sln")))
                    return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} or {Directory.GetCurrentDirectory()} holds Microsoft.ML.PTuning.sln; pass --data and --out.");
    }
}
