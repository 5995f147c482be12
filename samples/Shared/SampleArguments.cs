namespace Microsoft.ML.PTuning.Samples;

/// <summary>The command line every sample accepts: --model, --data, --epochs, --out.</summary>
internal sealed record SampleArguments(string? ModelFolder, string DataPath, int Epochs, string OutputFolder)
{
    /// <summary>Parses the arguments; the default data file is looked up in samples/data next to the sample.</summary>
    public static SampleArguments Parse(string[] args, string defaultData, int defaultEpochs)
    {
        string? model = null, data = null, output = null;
        int epochs = defaultEpochs;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw Usage($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--model":
                    model = Value();
                    break;
                case "--data":
                    data = Value();
                    break;
                case "--out":
                    output = Value();
                    break;
                case "--epochs":
                    if (!int.TryParse(Value(), out epochs) || epochs < 1)
                        throw Usage("--epochs needs a positive number");
                    break;
                default:
                    throw Usage($"unknown argument '{args[i]}'");
            }
        }
        if (model != null && !Directory.Exists(model))
            throw Usage($"--model '{model}' is not a folder (expected a Hugging Face model folder)");
        data ??= Path.Combine(SamplesFolder(), "data", defaultData);
        if (!File.Exists(data))
            throw Usage($"data file '{data}' does not exist");
        output ??= Path.Combine(Directory.GetCurrentDirectory(), "artifacts", "samples");
        Directory.CreateDirectory(output);
        return new SampleArguments(model, data, epochs, output);
    }

    private static ArgumentException Usage(string problem) =>
        new($"{problem}. Usage: [--model <Hugging Face folder>] [--data <file>] [--epochs N] [--out <folder>]");

    /// <summary>The samples folder of the repo, found by walking up from the program's folder.</summary>
    private static string SamplesFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, "samples", "data")))
                return Path.Combine(dir.FullName, "samples");
        }
        throw new DirectoryNotFoundException("samples/data was not found above " + AppContext.BaseDirectory + "; pass --data.");
    }
}
