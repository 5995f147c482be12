using Spectre.Console;

namespace Microsoft.ML.PTuning.Cli.Output;

/// <summary>
/// A progress bar on an interactive terminal (description, bar, percentage, elapsed time; the caller's ETA in the
/// description); on anything else (CI logs, pipes) the lines the caller marks as milestones, one per line.
/// </summary>
internal sealed class ProgressDisplay
{
    private readonly IAnsiConsole _console;
    private readonly ProgressTask? _task;

    private ProgressDisplay(IAnsiConsole console, ProgressTask? task)
    {
        _console = console;
        _task = task;
    }

    /// <summary>Runs <paramref name="work"/> with a display titled <paramref name="title"/> on <paramref name="console"/>.</summary>
    public static T Run<T>(IAnsiConsole console, string title, Func<ProgressDisplay, T> work)
    {
        if (!console.Profile.Capabilities.Interactive)
        {
            console.WriteLine(title);
            return work(new ProgressDisplay(console, null));
        }

        return console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                ProgressTask task = context.AddTask(Markup.Escape(title), maxValue: 1);
                T result = work(new ProgressDisplay(console, task));
                task.Value = task.MaxValue;
                task.StopTask();
                return result;
            });
    }

    /// <summary>Moves the bar to <paramref name="done"/> of <paramref name="total"/>; a milestone is also a line in plain output.</summary>
    public void Update(double done, double total, string description, bool milestone)
    {
        if (_task is null)
        {
            if (milestone)
                _console.WriteLine("  " + description);
            return;
        }
        _task.MaxValue = Math.Max(total, 1);
        _task.Value = Math.Min(done, _task.MaxValue);
        _task.Description = Markup.Escape(description);
    }
}
