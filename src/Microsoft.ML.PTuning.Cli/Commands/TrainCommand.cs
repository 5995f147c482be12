using System.ComponentModel;
using System.Globalization;
using Microsoft.ML.PTuning.Cli.Data;
using Microsoft.ML.PTuning.Cli.Output;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Microsoft.ML.PTuning.Cli.Commands;

/// <summary><c>ptuning train</c>: fit one model and save it with <c>SaveAtomically</c>.</summary>
internal sealed class TrainCommand : Command<TrainCommand.Settings>
{
    /// <summary>The options of <c>train</c>.</summary>
    public sealed class Settings : TrainingSettings
    {
        [CommandOption("-o|--output <ZIP>")]
        [Description("The model zip to write (replaced atomically if it exists).")]
        [DefaultValue("model.zip")]
        public string Output { get; init; } = "model.zip";

        [CommandOption("-p|--prefix-length <N>")]
        [Description("Prefix (or prompt) vectors per layer; ignored by FullFineTuning and LinearProbe (default: the task's, 16 for text classification, 64 for NER).")]
        public int? PrefixLength { get; init; }

        [CommandOption("-l|--learning-rate <RATE>")]
        [Description("Peak learning rate (default: the method's and the task's; prefix tuning 3e-3 for text classification, 3e-2 for NER; linear probe 1e-3 and 1e-2; full fine-tuning 3e-5 and 3e-5; prompt tuning 1e-2; P-Tuning v1 1e-3).")]
        public double? LearningRate { get; init; }

        /// <inheritdoc/>
        public override ValidationResult Validate()
        {
            if (PrefixLength is < 1)
                return ValidationResult.Error($"--prefix-length must be at least 1, not {PrefixLength}.");
            if (LearningRate is double rate && !(rate > 0 && rate <= 1))
                return ValidationResult.Error($"--learning-rate must be in (0, 1], not {rate.ToString(CultureInfo.InvariantCulture)}.");
            return base.Validate();
        }
    }

    /// <inheritdoc/>
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var environment = (CliEnvironment)context.Data!;
        IAnsiConsole console = environment.Out;
        var setup = TrainingSetup.Create(settings, settings.Output, environment, console, defaultValidationFraction: 0);
        setup.Options.PrefixLength = settings.PrefixLength ?? setup.Options.PrefixLength;
        setup.Options.LearningRate = settings.LearningRate;

        string title = $"Training {settings.Method} ({TaskName(setup.Task)}) over {setup.BaseModel}";
        var clock = System.Diagnostics.Stopwatch.StartNew();
        (PrefixTuningTransformer model, TrainingProgress progress) = ProgressDisplay.Run(console, title, display =>
        {
            var progress = new TrainingProgress(display);
            setup.Options.Progress = progress;
            PrefixTuningTransformer fitted = setup.Fit();
            return (fitted, progress);
        });

        string output = setup.Save(model, settings.Output);

        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Trained {model.Method}: {model.TrainedParameterCount:N0} trained parameters, {model.ClassNames?.Count ?? 0} classes, " +
            $"{progress.Last?.Epoch ?? 0} epoch(s) in {clock.Elapsed.TotalSeconds:F1} s") +
            (progress.BestValidation is double best ? string.Create(CultureInfo.InvariantCulture, $", best validation {best:F4}") : "") + ".");
        console.WriteLine($"Saved {output} ({new FileInfo(output).Length:N0} bytes).");
        model.Dispose();
        return ExitCodes.Success;
    }

    internal static string TaskName(CliTask task) => task == CliTask.Ner ? "named entities" : "text classification";
}
