using System.Diagnostics;
using Harmont.Aot.Native.Linux;
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

        var mounts = MountsOf(invocation);
        if (_stable is null)
        {
            NoMounts(invocation, mounts, "this host backend runs steps without a mount namespace");
            return await RunProcessAsync(invocation, Shell(invocation, workingDirectory, logicalDirectory: null), StartPlain, cancellationToken);
        }

        var inStable = invocation.Cwd is null ? _stable.Path : Path.Combine(_stable.Path, invocation.Cwd);
        var isolation = await _stable.IsolationAsync();
        if (!isolation.IsNamespace)
        {
            NoMounts(invocation, mounts, "host steps run one at a time here, without a mount namespace (see 'doctor')");
            await using var placement = await SerialPlacement.EnterAsync(_stable, invocation.Workspace, cancellationToken);
            if (placement.Notice is not null)
            {
                invocation.Log(LogStream.Stderr, placement.Notice);
                return await RunProcessAsync(invocation, Shell(invocation, workingDirectory, logicalDirectory: null), StartPlain, cancellationToken);
            }

            return await RunProcessAsync(invocation, Shell(invocation, inStable, inStable), StartPlain, cancellationToken);
        }

        using var shared = await _stable.LockAsync(exclusive: false, cancellationToken);
        _stable.EnsureMountPoint();
        mounts.ForEach(m => Directory.CreateDirectory(m.Value)); // A bind needs its target.
        if (isolation.Mode == HostIsolationMode.Bwrap)
        {
            return await BwrapStart.RunAsync(invocation, _stable.Path, inStable, cancellationToken, mounts);
        }

        var workspace = invocation.Workspace;
        var stablePath = _stable.Path;
        StepNamespace? stepNamespace = null;
        try
        {
            return await RunProcessAsync(invocation, Shell(invocation, inStable, inStable), StartNamespaced, cancellationToken, () => stepNamespace?.KillAll());
        }
        finally
        {
            stepNamespace?.Dispose();
        }

        async Task<Process> StartNamespaced(ProcessStartInfo psi)
        {
            if (!OperatingSystem.IsLinux())
            {
                throw new PlatformNotSupportedException("mount namespaces are Linux-only.");
            }

            var (error, process, held) = await NamespacedStart.StartAsync(workspace, stablePath, () => Launch(psi), mounts);
            stepNamespace = held;
            return error == Errno.None
                ? process!
                : throw new InvalidOperationException($"could not bind the workspace at {stablePath} in a mount namespace: {error.Describe()}.");
        }
    }

    // Each mount's host directory and its target for the runner's user (~ is their home).
    private static List<KeyValuePair<string, string>> MountsOf(StepInvocation invocation)
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return [.. invocation.Mounts.Select(m => new KeyValuePair<string, string>(m.Key, StepInvocation.MountTarget(m.Value, home)))];
    }

    private static void NoMounts(StepInvocation invocation, List<KeyValuePair<string, string>> mounts, string why)
    {
        if (mounts.Count > 0)
        {
            throw new InvalidOperationException(
                $"step '{invocation.StepKey}' has a cache mount at {mounts[0].Value}, but {why}. Run as root or install bubblewrap, or use the Docker runner.");
        }
    }

    /// <summary><c>sh -c</c> the step's command in <paramref name="workingDirectory"/>, with its env and secrets.</summary>
    /// <param name="invocation">The step.</param>
    /// <param name="workingDirectory">Where it starts.</param>
    /// <param name="logicalDirectory">
    /// What <c>$PWD</c> says, so a shell's <c>pwd</c> prints the stable path rather than whatever PWD
    /// this process inherited; null leaves it to the shell.
    /// </param>
    internal static ProcessStartInfo Shell(StepInvocation invocation, string workingDirectory, string? logicalDirectory)
    {
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
        if (logicalDirectory is not null)
        {
            psi.Environment["PWD"] = logicalDirectory;
        }

        foreach (var (name, value) in invocation.Env.Concat(invocation.Secrets))
        {
            psi.Environment[name] = value;
        }

        return psi;
    }

    private static Process Launch(ProcessStartInfo psi) =>
        Process.Start(psi) ?? throw new InvalidOperationException($"could not start '{psi.FileName}'; the host backend needs it on PATH.");

    /// <summary>Starts the process in this process's own mount namespace.</summary>
    internal static Task<Process> StartPlain(ProcessStartInfo psi) => Task.FromResult(Launch(psi));

    /// <summary>Starts the process, streams its lines to the step's log, and kills its whole tree on cancel or timeout.</summary>
    /// <param name="invocation">The step.</param>
    /// <param name="psi">What to start.</param>
    /// <param name="start">Starts it (in this mount namespace, or a new one).</param>
    /// <param name="cancellationToken">Cancel or timeout: the whole process tree is killed.</param>
    /// <param name="afterExit">
    /// Runs once the process is gone, before its output is drained: what it left running may hold the
    /// output pipes open.
    /// </param>
    /// <param name="beforeInput">Awaited, with the output already being read, before the step's input is closed (which a wrapper may wait for).</param>
    internal static async Task<StepResult> RunProcessAsync(
        StepInvocation invocation, ProcessStartInfo psi, Func<ProcessStartInfo, Task<Process>> start, CancellationToken cancellationToken, Action? afterExit = null,
        Func<Process, Task>? beforeInput = null)
    {
        var begun = System.Diagnostics.Stopwatch.GetTimestamp();
        using var process = await start(psi);
        invocation.Timings?.AddSince(Tuning.StepPhase.Start, begun);

        var stdout = PumpAsync(process.StandardOutput, LogStream.Stdout, invocation);
        var stderr = PumpAsync(process.StandardError, LogStream.Stderr, invocation);
        if (beforeInput is not null)
        {
            await beforeInput(process);
        }

        process.StandardInput.Close();
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The shell's children would otherwise outlive the run.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            afterExit?.Invoke();
            await Task.WhenAll(stdout, stderr);
            throw;
        }

        afterExit?.Invoke();
        await Task.WhenAll(stdout, stderr);
        return new StepResult(process.ExitCode, Snapshot: null);
    }

    public Task ReapAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    /// <remarks>The host never snapshots, so there is nothing to keep.</remarks>
    public Task KeepSnapshotAsync(string snapshot, string cacheKey, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task DropSnapshotAsync(string snapshot, string cacheKey, CancellationToken cancellationToken) => Task.CompletedTask;

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
