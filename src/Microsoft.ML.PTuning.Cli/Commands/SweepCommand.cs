using System.ComponentModel;
using System.Globalization;
using Microsoft.ML.PTuning.Cli.Data;
using Microsoft.ML.PTuning.Cli.Output;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Microsoft.ML.PTuning.Cli.Commands;

/// <summary><c>ptuning sweep</c>: <see cref="PrefixTuningSweeper"/> over prefix lengths × learning rates; a report and the best model.</summary>
internal sealed class SweepCommand : Command<SweepCommand.Settings>
{
    /// <summary>The options of <c>sweep</c>.</summary>
    public sealed class Settings : TrainingSettings
    {
        [CommandOption("-o|--output <ZIP>")]
        [Description("The best trial's model zip.")]
        [DefaultValue("best-model.zip")]
        public string Output { get; init; } = "best-model.zip";

        [CommandOption("--report <FILE>")]
        [Description("The JSON report of every trial.")]
        [DefaultValue("sweep-report.json")]
        public string Report { get; init; } = "sweep-report.json";

        [CommandOption("--prefix-lengths <LIST>")]
        [Description("Comma-separated prefix lengths to try.")]
        [DefaultValue("4,16,64")]
        public string PrefixLengths { get; init; } = "4,16,64";

        [CommandOption("--learning-rates <LIST>")]
        [Description("Comma-separated learning rates to try.")]
        [DefaultValue("0.01,0.03")]
        public string LearningRates { get; init; } = "0.01,0.03";

        [CommandOption("--strategy <STRATEGY>")]
        [Description("halving (successive halving), grid or random.")]
        [DefaultValue("halving")]
        public string Strategy { get; init; } = "halving";

        [CommandOption("--max-trials <N>")]
        [Description("Random search: trials to draw (0: the whole grid).")]
        [DefaultValue(0)]
        public int MaxTrials { get; init; }

        [CommandOption("--budget-minutes <MINUTES>")]
        [Description("Stop starting epochs after this many minutes.")]
        public double? BudgetMinutes { get; init; }

        /// <inheritdoc/>
        public override ValidationResult Validate()
        {
            if (ParseLengths(PrefixLengths) is null)
                return ValidationResult.Error($"--prefix-lengths: '{PrefixLengths}' is not a comma-separated list of whole numbers 1 or more.");
            if (ParseRates(LearningRates) is null)
                return ValidationResult.Error($"--learning-rates: '{LearningRates}' is not a comma-separated list of numbers in (0, 1].");
            if (ParseStrategy(Strategy) is null)
                return ValidationResult.Error($"--strategy: '{Strategy}' is not halving, grid or random.");
            if (MaxTrials < 0)
                return ValidationResult.Error($"--max-trials must be 0 or more, not {MaxTrials}.");
            if (BudgetMinutes is double m && !(m > 0))
                return ValidationResult.Error($"--budget-minutes must be positive, not {m.ToString(CultureInfo.InvariantCulture)}.");
            if (ValidationFraction == 0 && Validation is null)
                return ValidationResult.Error("A sweep ranks its trials on validation data: give --validation, or a --validation-fraction above 0.");
            return base.Validate();
        }
    }

    /// <inheritdoc/>
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var environment = (CliEnvironment)context.Data!;
        IAnsiConsole console = environment.Out;
        var setup = TrainingSetup.Create(settings, settings.Output, environment, console, defaultValidationFraction: 0.1);
        var sweepOptions = new PrefixTuningSweepOptions
        {
            PrefixLengths = ParseLengths(settings.PrefixLengths),
            LearningRates = ParseRates(settings.LearningRates),
            Strategy = ParseStrategy(settings.Strategy)!.Value,
            MaxTrials = settings.MaxTrials,
            TimeBudget = settings.BudgetMinutes is double m ? TimeSpan.FromMinutes(m) : null,
            Seed = settings.Seed,
            CancellationToken = environment.Cancellation,
        };
        setup.Options.ValidationSet = null;
        PrefixTuningSweeper sweeper = setup.CreateSweeper(sweepOptions);

        var (lengths, rates) = sweeper.SearchSpace;
        string title = string.Create(CultureInfo.InvariantCulture,
            $"Sweeping prefix lengths {string.Join(", ", lengths)} × learning rates {string.Join(", ", rates.Select(r => r.ToString("G3", CultureInfo.InvariantCulture)))} " +
            $"({sweepOptions.Strategy}, up to {setup.Options.MaxEpochs} epochs per trial)");
        PrefixTuningSweepResult result = ProgressDisplay.Run(console, title, display =>
        {
            sweepOptions.Progress = new SweepProgressDisplay(display, setup.Options.MaxEpochs);
            return setup.Run(() => sweeper.Run(setup.Train, setup.Validation!));
        });

        string output = setup.Save(result.BestModel, settings.Output);
        string metric = setup.Task == CliTask.Ner ? "entity F1" : "accuracy";
        JsonOutput.Write(SweepReportFile.From(result, metric, output), settings.Report, environment.StdOut);

        var table = new Table().AddColumns("trial", "prefix", "learning rate", "status", "epochs", $"best {metric}", "best epoch");
        foreach (PrefixTuningTrial trial in result.Trials)
        {
            table.AddRow((trial.Index + 1).ToString(CultureInfo.InvariantCulture), trial.PrefixLength.ToString(CultureInfo.InvariantCulture),
                trial.LearningRate.ToString("G3", CultureInfo.InvariantCulture), trial.Status.ToString(), trial.EpochsRun.ToString(CultureInfo.InvariantCulture),
                double.IsNaN(trial.BestMetric) ? "-" : trial.BestMetric.ToString("F4", CultureInfo.InvariantCulture), trial.BestEpoch.ToString(CultureInfo.InvariantCulture));
        }
        console.Write(table);
        console.WriteLine($"Best: trial {result.BestTrial.Index + 1} (prefix {result.BestTrial.PrefixLength}, learning rate " +
            $"{result.BestTrial.LearningRate.ToString("G3", CultureInfo.InvariantCulture)}); {result.TotalEpochs} epochs in {result.Elapsed.TotalSeconds:F1} s.");
        console.WriteLine($"Saved {output} and {Path.GetFullPath(settings.Report)}.");
        return ExitCodes.Success;
    }

    internal static int[]? ParseLengths(string list) =>
        ParseList(list, s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= 1 ? n : (int?)null);

    internal static double[]? ParseRates(string list) =>
        ParseList(list, s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double r) && r > 0 && r <= 1 ? r : (double?)null);

    internal static SweepStrategy? ParseStrategy(string value) => value.ToLowerInvariant() switch
    {
        "halving" or "successive-halving" or "successivehalving" => SweepStrategy.SuccessiveHalving,
        "grid" => SweepStrategy.Grid,
        "random" => SweepStrategy.Random,
        _ => null,
    };

    private static T[]? ParseList<T>(string list, Func<string, T?> parse)
        where T : struct
    {
        string[] items = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (items.Length == 0)
            return null;
        var values = new T[items.Length];
        for (int i = 0; i < items.Length; i++)
        {
            if (parse(items[i]) is not T value)
                return null;
            values[i] = value;
        }
        return values.Distinct().ToArray();
    }
}
