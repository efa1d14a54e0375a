using System.Diagnostics;
using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Runners.Host;

/// <summary>Runs steps as <c>sh -c</c> child processes in their workspaces; captures no system state.</summary>
internal sealed class HostBackend : IStepBackend
{
    public string Name => "host";

    public bool KeepsSystemState => false;

    /// <summary>The host captures no system state, so it has no snapshots to keep or find.</summary>
    public Task<bool> HasSnapshotAsync(string snapshot, CancellationToken cancellationToken) => Task.FromResult(false);

    public async Task<StepResult> RunAsync(StepInvocation invocation, CancellationToken cancellationToken)
    {
        var workingDirectory = invocation.Cwd is null ? invocation.Workspace : Path.Combine(invocation.Workspace, invocation.Cwd);
        if (!Directory.Exists(workingDirectory))
        {
            throw new InvalidOperationException(
                $"step '{invocation.StepKey}' runs in '{invocation.Cwd}', which is not a directory of its workspace. Create it in a parent step or fix Cwd.");
        }

        var psi = new ProcessStartInfo("sh")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(invocation.Command);
        foreach (var (name, value) in invocation.Env.Concat(invocation.Secrets))
        {
            psi.Environment[name] = value;
        }

        using var process = Process.Start(psi)
            ?? throw new InvalidOperationException("could not start 'sh'; the host backend needs a POSIX shell on PATH.");
        process.StandardInput.Close();

        var stdout = PumpAsync(process.StandardOutput, LogStream.Stdout, invocation);
        var stderr = PumpAsync(process.StandardError, LogStream.Stderr, invocation);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The shell's children would otherwise outlive the run.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            await Task.WhenAll(stdout, stderr);
            throw;
        }

        await Task.WhenAll(stdout, stderr);
        return new StepResult(process.ExitCode, Snapshot: null);
    }

    public Task ReapAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    /// <remarks>The host never snapshots, so there is nothing to keep.</remarks>
    public Task KeepSnapshotAsync(string snapshot, string cacheKey, CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    // Bytes through the same splitter as a container's output, so both cut lines alike: at '\n' only,
    // a long line in bounded pieces, and never inside a secret.
    private static async Task PumpAsync(StreamReader reader, LogStream stream, StepInvocation invocation)
    {
        var splitter = new LineSplitter(line => invocation.Log(stream, line), masker: invocation.Masker);
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await reader.BaseStream.ReadAsync(buffer, CancellationToken.None)) > 0)
        {
            splitter.Write(buffer.AsSpan(0, read));
        }

        splitter.Flush();
    }
}
