using System.Globalization;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Harmont.Aot.Runners.Docker;

// A step's container from start to removal: its command, its output, and handing the workspace back.
internal sealed partial class DockerBackend
{
    private readonly List<Task> _removals = [];

    /// <summary>The container command: <c>sh -c</c>, wrapped to restore workspace ownership when asked to.</summary>
    internal static List<string> BuildCommand(string command, string? workspaceOwner)
    {
        if (workspaceOwner is null)
        {
            return ["sh", "-c", command];
        }

        // The command runs in a child shell, so its exit (or failure) still reaches the hand-back.
        var wrapper = $"sh -c \"$1\"; rc=$?; {OwnershipScript(workspaceOwner)}; exit $rc";
        return ["sh", "-c", wrapper, "sh", command];
    }

    /// <summary>Shell that gives every workspace path not already owned by <paramref name="workspaceOwner"/> to it.</summary>
    internal static string OwnershipScript(string workspaceOwner)
    {
        // Only files not already owned are touched: changing every file would bump ctimes and
        // defeat the hash memo, which keys on them.
        var (uid, gid) = (workspaceOwner.Split(':')[0], workspaceOwner.Split(':')[^1]);
        return $"find /workspace \\( ! -user {uid} -o ! -group {gid} \\) -exec chown -h {uid}:{gid} {{}} + 2>/dev/null";
    }

    private async Task<int> RunToExitAsync(
        string id, Action<LogStream, string> log, SecretMasker masker, SecretsFile? secrets, StepPhases? phases, CancellationToken cancellationToken, Action? started = null)
    {
        // Attached before start, so the very first line is seen. Not followed logs: Docker 20.10's json-file
        // follower can end early when the container stops, dropping the last lines; attach reads the pipes.
        using var output = await _engine.Api.Containers.AttachContainerAsync(
            id, new ContainerAttachParameters { Stream = true, Stdout = true, Stderr = true }, cancellationToken);
        using var outputCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var lines = AttachedOutput.ReadLinesAsync(output, log, masker, outputCancel.Token);
        phases?.Mark("attach");
        long status;
        try
        {
            await _engine.Api.Containers.StartContainerAsync(id, new ContainerStartParameters(), cancellationToken);
            started?.Invoke();
            phases?.Mark("start");

            // Started, the container holds the file through its mount; the name on the host can go now.
            secrets?.Dispose();
            var exit = await _engine.Api.Containers.WaitContainerAsync(id, cancellationToken);
            if (exit.Error?.Message is { Length: > 0 } error)
            {
                throw new DockerEngineException(null, error, $"waiting for container {id} failed: {error}");
            }

            status = exit.StatusCode;
            phases?.Mark("wait");
        }
        catch
        {
            await StopReadingAsync(output, outputCancel, lines);
            throw;
        }

        // The exit code is only reported once every line the step wrote has been delivered.
        try
        {
            await lines.WaitAsync(OutputDrainTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            await StopReadingAsync(output, outputCancel, lines);
            log(LogStream.Stderr, $"harmont: the container's output was still open {OutputDrainTimeout.TotalSeconds:0}s after it exited; the rest is dropped.");
        }

        phases?.Mark("drain");
        return (int)status;
    }

    // Only when measuring: the engine's own start and finish times split the command's time from the wait's.
    private async Task TimeCommandAsync(string id, StepPhases phases, CancellationToken cancellationToken)
    {
        var state = (await _engine.InspectContainerAsync(id, cancellationToken))?.State;
        phases.Mark("inspect");
        if (DateTimeOffset.TryParse(state?.StartedAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var started)
            && DockerGarbage.FinishedAt(state) is { } finished)
        {
            phases.Split("wait", "command", finished - started);
        }
    }

    // A read the token cannot interrupt ends when its stream is closed.
    private static async Task StopReadingAsync(MultiplexedStream output, CancellationTokenSource cancel, Task lines)
    {
        await cancel.CancelAsync();
        output.Dispose();
        await Task.WhenAny(lines);
    }

    /// <summary>Hands a killed step's workspace back to its owner from a short-lived helper container.</summary>
    private async Task RestoreOwnershipAsync(StepInvocation invocation, string image)
    {
        // Never the caller's token, which has fired; a bounded one of our own instead.
        using var timeout = new CancellationTokenSource(OwnershipHelperTimeout);
        var name = DockerNames.ContainerName(invocation.RunId, invocation.StepKey + "-chown");
        try
        {
            await _engine.Api.Containers.CreateContainerAsync(
                new CreateContainerParameters
                {
                    Name = name,
                    Image = image,
                    Cmd = ["sh", "-c", OwnershipScript(_workspaceOwner!)],
                    WorkingDir = "/workspace",
                    Labels = ContainerLabels(invocation),
                    HostConfig = new HostConfig { Binds = [WorkspaceBind(invocation)] },
                },
                timeout.Token);
            await _engine.Api.Containers.StartContainerAsync(name, new ContainerStartParameters(), timeout.Token);
            await _engine.Api.Containers.WaitContainerAsync(name, timeout.Token);
        }
        catch (Exception ex) when (DockerEngine.IsFailure(ex) || ex is OperationCanceledException or IOException)
        {
            invocation.Log(LogStream.Stderr, $"harmont: could not hand the workspace back to {_workspaceOwner} after cancelling: {(DockerEngine.IsFailure(ex) ? _engine.Translate(ex) : ex).Message}");
        }
        finally
        {
            await RemoveContainerAsync(name, kill: true, rethrow: false);
        }
    }

    /// <summary>
    /// Whether a finished step's container is removed in the background rather than before the step's result
    /// is returned, so its child need not wait for it. Removal is still guaranteed: <see cref="ReapAsync"/> and
    /// <see cref="DisposeAsync"/> wait for every one, and a run that dies first leaves containers labelled with
    /// its lock, which the next run reaps. A cancelled or broken step's container is always removed at once.
    /// </summary>
    public bool RemovesInBackground { get; set; }

    private void RemoveLater(string name)
    {
        var removal = Task.Run(() => RemoveContainerAsync(name, kill: false, rethrow: true));
        lock (_removals)
        {
            _removals.Add(removal);
        }
    }

    // Every background removal so far, waited for; what failed is returned, to be said by the caller.
    private async Task<List<Exception>?> AwaitRemovalsAsync()
    {
        Task[] pending;
        lock (_removals)
        {
            pending = [.. _removals];
            _removals.Clear();
        }

        List<Exception>? failures = null;
        foreach (var removal in pending)
        {
            try
            {
                await removal;
            }
            catch (Exception ex) when (DockerEngine.IsFailure(ex) || ex is IOException or OperationCanceledException)
            {
                (failures ??= []).Add(DockerEngine.IsFailure(ex) ? _engine.Translate(ex) : ex);
            }
        }

        return failures;
    }

    private async Task RemoveContainerAsync(string name, bool kill, bool rethrow)
    {
        try
        {
            // Never the caller's token: cleanup must happen precisely when that token has fired.
            if (kill)
            {
                await _engine.KillContainerAsync(name, CancellationToken.None);
            }

            await _engine.RemoveContainerAsync(name, force: true, CancellationToken.None);
        }
        catch (Exception ex) when (!rethrow && DockerEngine.IsFailure(ex))
        {
            // The step already failed or was cancelled; that error matters more than this one.
        }
    }
}
