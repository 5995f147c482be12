using System.Diagnostics;
using System.Reflection;
using Xunit;

namespace Microsoft.ML.PTuning.Tests;

/// <summary>
/// Runs a piece of this test assembly in a new process, so a test can prove that what it saved is restored by a
/// process that never saw the types or state that wrote it (as a user's app loading a model zip would).
/// </summary>
public static class FreshProcess
{
    private static readonly Dictionary<string, Func<string[], string>> Commands = new(StringComparer.Ordinal);

    /// <summary>Registers a command the child process can run; its return value is written to stdout.</summary>
    public static void Register(string name, Func<string[], string> command) => Commands[name] = command;

    /// <summary>Runs <paramref name="command"/> in a fresh process and returns what it printed.</summary>
    public static string Run(string command, params string[] args)
    {
        using Process process = Start(command, args);
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"fresh process '{command}' did not finish in 5 minutes");
        }
        Assert.True(process.ExitCode == 0, $"fresh process '{command}' exited with {process.ExitCode}:\n{stderr.Result}\n{stdout.Result}");
        return stdout.Result.Trim();
    }

    /// <summary>
    /// Starts <paramref name="command"/> in a fresh process and returns it running (stdout and stderr redirected), for a
    /// test that stops it from outside, as a crash would.
    /// </summary>
    public static Process Start(string command, params string[] args)
    {
        string assembly = typeof(FreshProcess).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(assembly);
        start.ArgumentList.Add(command);
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        return Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
    }

    /// <summary>Entry point of the child process: finds the command among the test classes' static registrations.</summary>
    public static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: <command> [args]");
            return 2;
        }
        // Commands are registered by static constructors of the classes marked [FreshProcessCommands].
        foreach (Type type in typeof(FreshProcess).Assembly.GetTypes())
        {
            if (type.GetCustomAttribute<FreshProcessCommandsAttribute>() != null)
                System.Runtime.CompilerServices.RuntimeHelpers.RunClassConstructor(type.TypeHandle);
        }
        if (!Commands.TryGetValue(args[0], out var run))
        {
            Console.Error.WriteLine($"unknown command '{args[0]}'");
            return 2;
        }
        Console.WriteLine(run(args[1..]));
        return 0;
    }
}

/// <summary>Marks a class whose static constructor registers <see cref="FreshProcess"/> commands.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class FreshProcessCommandsAttribute : Attribute
{
}
