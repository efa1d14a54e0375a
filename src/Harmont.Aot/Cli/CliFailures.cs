using Harmont.Aot.Cache.Remote;
using Harmont.Aot.Model;
using Harmont.Aot.Runners;
using Harmont.Aot.Scheduling;

namespace Harmont.Aot.Cli;

/// <summary>
/// The one mapping from what a verb throws to the line on stderr and the exit code. A failure it does not know is a
/// bug, left to escape, so <see cref="HarmontCli"/> says it in full as an internal error.
/// </summary>
internal static class CliFailures
{
    /// <summary>Every error line starts so; scripts and users look for it.</summary>
    public const string ErrorPrefix = "harmont: error: ";

    /// <summary>The line for a run the user cancelled.</summary>
    public const string CancelledLine = "harmont: cancelled";

    /// <summary>The failure <paramref name="exception"/> is in <paramref name="scope"/>; null for one that is not the user's to fix.</summary>
    public static CliFailure? Describe(Exception exception, FailureScope scope)
    {
        ArgumentNullException.ThrowIfNull(exception);
        ArgumentNullException.ThrowIfNull(scope);
        return exception switch
        {
            PipelineException => Usage(exception.Message),
            EngineUnavailableException => new CliFailure(ExitCodes.EngineUnavailable, ErrorPrefix + exception.Message),
            OperationCanceledException when scope.Cancellation.IsCancellationRequested => new CliFailure(ExitCodes.Cancelled, CancelledLine),

            // The verb names what it reads and writes; without that, the message alone would not say where to look.
            IOException or UnauthorizedAccessException when scope.FileProblem is { } describe => Usage(describe(exception.Message)),

            // Asked for by name (not a run's shared cache, where the registry failing is a miss), so the fault is the result.
            RegistryException when scope.RegistryCommand is { } command => new CliFailure(ExitCodes.StepFailed, $"{ErrorPrefix}{command}: {exception.Message}"),
            _ => null,
        };
    }

    /// <summary>A usage or pipeline error: exit 2, <paramref name="message"/> on one line.</summary>
    public static CliFailure Usage(string message) => new(ExitCodes.Usage, ErrorPrefix + message);

    /// <summary>Writes <paramref name="failure"/>'s line to <paramref name="error"/> and returns its exit code.</summary>
    public static async Task<int> ReportAsync(CliFailure failure, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(error);
        await error.WriteLineAsync(failure.Line);
        return failure.ExitCode;
    }
}

/// <summary>A failure as the user sees it: the exit code and the one line on stderr.</summary>
internal readonly record struct CliFailure(int ExitCode, string Line);

/// <summary>What a verb adds to <see cref="CliFailures"/>: which cancel is the user's, and what its files and registry are.</summary>
/// <param name="Cancellation">Cancelled when the user cancels the verb (Ctrl-C for run).</param>
internal sealed record FailureScope(CancellationToken Cancellation)
{
    /// <summary>The error line for an I/O or permission failure, from its message; null leaves such a failure a bug.</summary>
    public Func<string, string>? FileProblem { get; init; }

    /// <summary>The command a registry failure's line names; null leaves such a failure a bug.</summary>
    public string? RegistryCommand { get; init; }
}
