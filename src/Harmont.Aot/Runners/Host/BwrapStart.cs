using Harmont.Aot.Native.Linux;

namespace Harmont.Aot.Runners.Host;

/// <summary>
/// Runs a host step under bubblewrap (the non-root namespace route), starting it again when bwrap
/// itself failed to set up. bwrap re-applies the flags of every mount it copies, and a mount that
/// vanishes meanwhile (another step's workspace, a container stopping) makes it die with EINVAL
/// (containers/bubblewrap#650): that is the machine's churn, not the step's failure.
/// </summary>
internal static class BwrapStart
{
    private const int Attempts = 3;

    // Said on stderr by the shell bwrap starts, so a setup failure (no marker) is told from the step's own exit 1.
    private const string Ready = "harmont-bwrap-ready-7f3a";

    /// <summary>The step's command under bwrap, retried while bwrap's own setup fails; its log sees no marker and no retried setup error.</summary>
    public static async Task<StepResult> RunAsync(
        StepInvocation invocation, string stablePath, string workingDirectory, CancellationToken cancellationToken, IReadOnlyList<KeyValuePair<string, string>>? mounts = null)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        for (var attempt = 1; ; attempt++)
        {
            var gate = new ReadinessGate(invocation.Log);

            // The step's own start, with bwrap in front: same environment, same $PWD.
            var psi = HostBackend.Shell(invocation, invocation.Workspace, workingDirectory);
            psi.FileName = "bwrap";
            psi.ArgumentList.Clear();
            // The shell says its pid, then waits for its input to close before the step's command starts: the runner closes
            // it once it holds the shell's namespace, so even a step that is over at once cannot leave a process behind
            // in a namespace nobody holds. The command's input stays empty, as a host step's always is.
            var command = new[] { "sh", "-c", $"echo \"{Ready} $$\" >&2 && {{ read -r _; exec sh -c \"$1\" </dev/null; }}", "sh", invocation.Command };
            foreach (var argument in HostIsolation.BwrapArguments(invocation.Workspace, stablePath, workingDirectory, command, mounts))
            {
                psi.ArgumentList.Add(argument);
            }

            StepResult result;
            try
            {
                result = await HostBackend.RunProcessAsync(
                    invocation with { Log = gate.Log }, psi, HostBackend.StartPlain, cancellationToken, gate.EndLeftovers,
                    process => Task.WhenAny(gate.Held, process.WaitForExitAsync(CancellationToken.None)));
            }
            finally
            {
                // Again once the output is drained: the marker may have been read only then.
                gate.EndLeftovers();
                gate.Dispose();
            }

            if (gate.SawReady || attempt == Attempts)
            {
                gate.Release();
                return result;
            }
        }
    }

    // Holds lines until the marker: before it only bwrap speaks, after it every held line is the step's.
    private sealed class ReadinessGate(Action<LogStream, string> log) : IDisposable
    {
        private StepNamespace? _namespace;

        private readonly Lock _lock = new();
        private readonly List<(LogStream, string)> _held = [];

        private readonly TaskCompletionSource _holding = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool SawReady { get; private set; }

        /// <summary>Done once the marker was read and the shell's namespace opened (or found gone).</summary>
        public Task Held => _holding.Task;

        public void Log(LogStream stream, string line)
        {
            lock (_lock)
            {
                if (SawReady)
                {
                    log(stream, line);
                    return;
                }

                if (stream == LogStream.Stderr && line.StartsWith(Ready + " ", StringComparison.Ordinal))
                {
                    SawReady = true;

                    // The marker names the step's shell, which waits (for its input to close) until its namespace is
                    // held; a shell gone already (the run cancelled meanwhile) leaves nothing to hold, or to end.
                    if (int.TryParse(line.AsSpan(Ready.Length + 1), out var pid) && OperatingSystem.IsLinux())
                    {
                        _namespace = StepNamespace.Open($"/proc/{pid}/ns/mnt");
                    }

                    _holding.TrySetResult();

                    Release();
                    return;
                }

                _held.Add((stream, line));
            }
        }

        // What the step left in its namespace ends with it.
        public void EndLeftovers()
        {
            StepNamespace? held;
            lock (_lock)
            {
                held = _namespace;
            }

            if (held is not null && OperatingSystem.IsLinux())
            {
                held.KillAll();
            }
        }

        public void Dispose()
        {
            lock (_lock)
            {
                _namespace?.Dispose();
                _namespace = null;
            }
        }

        // After the marker: the step's lines that raced ahead of it on stdout. Without it: bwrap's error, on the last attempt.
        public void Release()
        {
            lock (_lock)
            {
                foreach (var (stream, line) in _held)
                {
                    log(stream, line);
                }

                _held.Clear();
            }
        }
    }
}
