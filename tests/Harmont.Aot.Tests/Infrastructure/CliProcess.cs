using System.Diagnostics;

namespace Harmont.Aot.Tests;

/// <summary>Runs the published binary to completion with stdout and stderr kept apart, as a shell user sees them.</summary>
public static class CliProcess
{
    public static async Task<CliResult> RunAsync(string binary, string workingDirectory, string[] args, params (string Name, string Value)[] env)
    {
        var psi = Exec.StartInfo(binary, args, workingDirectory, env);
        using var process = new Process { StartInfo = psi };
        process.Start();
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>One run of the binary.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>The lines on stderr.</summary>
    public IReadOnlyList<string> ErrorLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}
