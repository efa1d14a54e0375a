using System.Diagnostics;
using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Runners.Host;

/// <summary>Runs steps as <c>sh -c</c> child processes with their workspace at the pipeline's stable path; captures no system state.</summary>
internal sealed class HostBackend : IStepBackend
{
    private readonly StableWorkspace? _stable;

    /// <param name="stable">
    /// Where every step sees its workspace; null runs each step in its own workspace directory (a
    /// backend made for a test or a tool that has no pipeline context).
    /// </param>
    public HostBackend(StableWorkspace? stable = null) => _stable = stable;

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

        if (_stable is null)
        {
            return await RunProcessAsync(invocation, "sh", ["-c", invocation.Command], workingDirectory, logicalDirectory: null, cancellationToken);
        }

        var inStable = invocation.Cwd is null ? _stable.Path : Path.Combine(_stable.Path, invocation.Cwd);
        if ((await _stable.IsolationAsync()).Mode == HostIsolationMode.Namespace)
        {
            using var shared = await _stable.LockAsync(exclusive: false, cancellationToken);

            // The empty directory the workspace is bound over; recreated in case a cleanup took it.
            Directory.CreateDirectory(_stable.Path);
            var arguments = HostIsolation.BwrapArguments(invocation.Workspace, _stable.Path, inStable, ["sh", "-c", invocation.Command]);
            return await RunProcessAsync(invocation, "bwrap", arguments, invocation.Workspace, inStable, cancellationToken);
        }

        await using var placement = await SerialPlacement.EnterAsync(_stable, invocation.Workspace, cancellationToken);
        if (placement.Notice is not null)
        {
            invocation.Log(LogStream.Stderr, placement.Notice);
            return await RunProcessAsync(invocation, "sh", ["-c", invocation.Command], workingDirectory, logicalDirectory: null, cancellationToken);
        }

        return await RunProcessAsync(invocation, "sh", ["-c", invocation.Command], inStable, inStable, cancellationToken);
    }

    // logicalDirectory: what $PWD says, so a shell's pwd prints the stable path rather than whatever
    // PWD this process inherited.
    private static async Task<StepResult> RunProcessAsync(
        StepInvocation invocation, string program, IReadOnlyList<string> arguments, string workingDirectory, string? logicalDirectory, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            psi.ArgumentList.Add(argument);
        }

        if (logicalDirectory is not null)
        {
            psi.Environment["PWD"] = logicalDirectory;
        }

        foreach (var (name, value) in invocation.Env.Concat(invocation.Secrets))
        {
            psi.Environment[name] = value;
        }

        using var process = Process.Start(psi)
            ?? throw new InvalidOperationException($"could not start '{program}'; the host backend needs it on PATH.");
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

    public ValueTask DisposeAsync()
    {
        _stable?.Dispose();
        return ValueTask.CompletedTask;
    }

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
