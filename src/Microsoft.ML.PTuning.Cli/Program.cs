using Microsoft.ML.PTuning.Cli;

// ptuning: the command line of Microsoft.ML.PTuning. Ctrl+C cancels through the options' CancellationToken; the
// library stops at the next step and the tool exits with 130.
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};
var environment = new CliEnvironment(Console.Out, Console.Error, Console.In, cancel.Token,
    interactive: !Console.IsOutputRedirected);
return PTuningCli.Run(args, environment);
