using Harmont.Aot.Events;
using Harmont.Aot.Runners;

namespace Harmont.Aot.Cli;

/// <summary>What a command reads from the outside world, passed in so tests can drive it in-process.</summary>
/// <param name="Out">Human output and events.</param>
/// <param name="Error">Notices and errors.</param>
/// <param name="WorkingDirectory">Where relative paths start, and the git repository to build is looked for.</param>
/// <param name="GetEnv">Environment lookup.</param>
/// <param name="Docker">How to reach a Docker engine.</param>
/// <param name="Cancellation">Cancelled by Ctrl-C / SIGTERM.</param>
internal sealed record CliContext(
    TextWriter Out,
    TextWriter Error,
    string WorkingDirectory,
    Func<string, string?> GetEnv,
    DockerConnector Docker,
    CancellationToken Cancellation)
{
    /// <summary>Also receives every run event; lets tests observe a run without parsing its text.</summary>
    public IRunEventSink? Observer { get; init; }

    /// <summary>Now, for ttl buckets and cache times; tests move it.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>The source repository when the caller has chosen it already (as tests do); <c>--repo</c> still wins.</summary>
    public string? Repository { get; init; }

    /// <summary>Whether <see cref="Out"/> is a terminal, which selects the live view.</summary>
    public bool IsTerminal { get; init; }

    /// <summary>
    /// This program's own binary, which a local run starts again as <c>cache push</c> to finish its pushes after it
    /// ends; null where the process is not one (tests drive the CLI in-process; <c>dotnet app.dll</c> is the host's).
    /// </summary>
    public string? Executable { get; init; }

    public static CliContext FromProcess()
    {
        return new CliContext(
            Console.Out,
            Console.Error,
            Environment.CurrentDirectory,
            Environment.GetEnvironmentVariable,
            DockerConnectors.FromEnvironment(Environment.GetEnvironmentVariable),
            CancellationToken.None)
        {
            IsTerminal = !Console.IsOutputRedirected,
            Executable = Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) != "dotnet" ? self : null,
        };
    }
}
