namespace Harmont.Aot.Runners.Docker;

/// <summary>Runs each step in its own container, bind-mounting the workspace, and commits it when a child needs its state.</summary>
internal sealed class DockerBackend : IStepBackend
{
    // The attached output closes when the container stops; this only guards against an engine that never closes it.
    private static readonly TimeSpan OutputDrainTimeout = TimeSpan.FromSeconds(30);

    private readonly DockerEngineClient _client;
    private readonly bool _ownsClient;
    private readonly string? _workspaceOwner;
    private readonly List<string> _snapshots = [];

    /// <summary>Creates a backend over <paramref name="client"/>.</summary>
    /// <param name="client">The engine client.</param>
    /// <param name="ownsClient">Whether disposing the backend disposes the client.</param>
    /// <param name="workspaceOwner">
    /// <c>uid:gid</c> to hand the workspace's files back to after each step, so a non-root host user can
    /// still remove what the container's root wrote; null leaves ownership alone.
    /// </param>
    public DockerBackend(DockerEngineClient client, bool ownsClient = true, string? workspaceOwner = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _ownsClient = ownsClient;
        _workspaceOwner = workspaceOwner;
    }

    /// <inheritdoc />
    public string Name => "docker";

    /// <summary>The engine client this backend drives.</summary>
    public DockerEngineClient Client => _client;

    /// <summary>Connects to <paramref name="endpoint"/> and checks its API version; null when no engine answers.</summary>
    public static async Task<DockerBackend?> TryConnectAsync(DockerEndpoint endpoint, string? workspaceOwner, CancellationToken cancellationToken)
    {
        var client = new DockerEngineClient(endpoint);
        try
        {
            if (!await client.PingAsync(cancellationToken))
            {
                client.Dispose();
                return null;
            }

            // An engine too old to drive is an error worth seeing now, not at the first step.
            await client.GetApiVersionAsync(cancellationToken);
            return new DockerBackend(client, ownsClient: true, workspaceOwner);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public async Task<StepResult> RunAsync(StepInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var image = invocation.BaseImage
            ?? throw new ArgumentException($"step '{invocation.StepKey}' has no image; the Docker backend needs one.", nameof(invocation));
        var spec = BuildSpec(invocation, image);
        var completed = false;
        var created = false;
        try
        {
            await EnsureImageAsync(image, cancellationToken);

            // Count it as created before asking: if the reply is lost to cancellation, the name still finds it.
            created = true;
            var id = await _client.CreateContainerAsync(spec, cancellationToken);
            var exitCode = await RunToExitAsync(id, invocation.Log, cancellationToken);

            string? snapshot = null;
            if (exitCode == 0 && invocation.KeepSnapshot)
            {
                snapshot = await SnapshotAsync(id, invocation, cancellationToken);
            }

            completed = true;
            return new StepResult(exitCode, snapshot);
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is not OperationCanceledException)
        {
            // An aborted connection can surface as an I/O error; the caller asked to cancel, so say that.
            throw new OperationCanceledException("the step was cancelled.", ex, cancellationToken);
        }
        finally
        {
            if (created)
            {
                await RemoveContainerAsync(spec.Name!, kill: cancellationToken.IsCancellationRequested, rethrow: completed);
            }
        }
    }

    /// <inheritdoc />
    public async Task ReapAsync(CancellationToken cancellationToken)
    {
        string[] images;
        lock (_snapshots)
        {
            // Newest first: a child goes before its parent, so each removal frees its layers.
            images = [.. Enumerable.Reverse(_snapshots)];
            _snapshots.Clear();
        }

        List<Exception>? failures = null;
        foreach (var image in images)
        {
            try
            {
                await _client.RemoveImageAsync(image, force: true, cancellationToken);
            }
            catch (DockerEngineException ex)
            {
                (failures ??= []).Add(ex);
            }
        }

        if (failures is not null)
        {
            throw new AggregateException("some ephemeral snapshots could not be removed.", failures);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>The container command: <c>sh -c</c>, wrapped to restore workspace ownership when asked to.</summary>
    internal static IReadOnlyList<string> BuildCommand(string command, string? workspaceOwner)
    {
        if (workspaceOwner is null)
        {
            return ["sh", "-c", command];
        }

        // Only files not already owned are touched: changing every file would bump ctimes and
        // defeat the hash memo, which keys on them.
        var (uid, gid) = (workspaceOwner.Split(':')[0], workspaceOwner.Split(':')[^1]);
        var wrapper =
            "sh -c \"$1\"; rc=$?; " +
            $"find /workspace \\( ! -user {uid} -o ! -group {gid} \\) -exec chown -h {uid}:{gid} {{}} + 2>/dev/null; " +
            "exit $rc";
        return ["sh", "-c", wrapper, "sh", command];
    }

    private ContainerSpec BuildSpec(StepInvocation invocation, string image)
    {
        var workspace = Path.GetFullPath(invocation.Workspace);
        if (workspace.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException($"workspace path '{workspace}' contains ':', which a Docker bind mount cannot express.", nameof(invocation));
        }

        return new ContainerSpec(image, BuildCommand(invocation.Command, _workspaceOwner))
        {
            Name = DockerNames.ContainerName(invocation.RunId, invocation.StepKey),
            Env = invocation.Env.Select(p => $"{p.Key}={p.Value}").ToArray(),
            WorkingDir = "/workspace",
            Binds = [$"{workspace}:/workspace"],
            Labels = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [DockerNames.OwnerLabel] = "1",
                [DockerNames.RunLabel] = invocation.RunId,
                [DockerNames.StepLabel] = invocation.StepKey,
            },
        };
    }

    private async Task EnsureImageAsync(string image, CancellationToken cancellationToken)
    {
        if (await _client.ImageExistsAsync(image, cancellationToken))
        {
            return;
        }

        try
        {
            await _client.PullImageAsync(image, progress: null, cancellationToken);
        }
        catch (DockerEngineException ex)
        {
            var reason = ex.EngineMessage.Length > 0 ? ex.EngineMessage : ex.Message;
            throw new DockerEngineException(
                ex.StatusCode,
                ex.EngineMessage,
                $"image '{image}' is not present and could not be pulled: {reason}. " +
                "Build or import it locally (docker import / docker build) or set Image= to one that exists.",
                ex);
        }
    }

    private async Task<int> RunToExitAsync(string id, Action<LogStream, string> log, CancellationToken cancellationToken)
    {
        // Attached before start, so the very first line is seen; see DockerEngineClient.AttachAsync
        // for why this is not a followed log.
        using var output = await _client.AttachAsync(id, cancellationToken);
        using var outputCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var lines = output.ReadLinesAsync(log, outputCancel.Token);
        long status;
        try
        {
            await _client.StartContainerAsync(id, cancellationToken);
            status = await _client.WaitContainerAsync(id, cancellationToken);
        }
        catch
        {
            await outputCancel.CancelAsync();
            await Task.WhenAny(lines);
            throw;
        }

        // The exit code is only reported once every line the step wrote has been delivered.
        try
        {
            await lines.WaitAsync(OutputDrainTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            await outputCancel.CancelAsync();
            await Task.WhenAny(lines);
            log(LogStream.Stderr, $"harmont: the container's output was still open {OutputDrainTimeout.TotalSeconds:0}s after it exited; the rest is dropped.");
        }

        return (int)status;
    }

    private async Task<string> SnapshotAsync(string id, StepInvocation invocation, CancellationToken cancellationToken)
    {
        var reference = $"{DockerNames.SnapshotRepository}:{DockerNames.SnapshotTag(invocation.RunId, invocation.StepKey)}";
        lock (_snapshots)
        {
            // Remembered before committing, so a commit that completes after cancellation is still reaped.
            _snapshots.Add(reference);
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [DockerNames.OwnerLabel] = "1",
            [DockerNames.RunLabel] = invocation.RunId,
            [DockerNames.EphemeralLabel] = "1",
        };
        var tagStart = reference.IndexOf(':', StringComparison.Ordinal);
        await _client.CommitAsync(id, reference[..tagStart], reference[(tagStart + 1)..], labels, cancellationToken);
        return reference;
    }

    private async Task RemoveContainerAsync(string name, bool kill, bool rethrow)
    {
        try
        {
            // Never the caller's token: cleanup must happen precisely when that token has fired.
            if (kill)
            {
                await _client.KillContainerAsync(name, CancellationToken.None);
            }

            await _client.RemoveContainerAsync(name, CancellationToken.None);
        }
        catch (DockerEngineException) when (!rethrow)
        {
            // The step already failed or was cancelled; that error matters more than this one.
        }
    }
}
