using Docker.DotNet;
using Docker.DotNet.Models;

namespace Harmont.Aot.Runners.Docker;

/// <summary>Runs each step in its own container, bind-mounting the workspace, and commits it when a child needs its state.</summary>
/// <remarks>Every public method is the backend's boundary: the library's failures leave it as <see cref="DockerEngineException"/>.</remarks>
internal sealed partial class DockerBackend : IStepBackend
{
    /// <summary>
    /// Deepest snapshot kept as a plain commit. The engine refuses to stack more than 125 layers
    /// ("max depth exceeded"); a snapshot that would pass this is flattened to one layer instead.
    /// </summary>
    public const int DefaultMaxSnapshotLayers = 90;

    // The attached output closes when the container stops; this only guards against an engine that never closes it.
    private static readonly TimeSpan OutputDrainTimeout = TimeSpan.FromSeconds(30);

    // A cancelled step's workspace is handed back by a helper container; it must not hold up cancellation for long.
    private static readonly TimeSpan OwnershipHelperTimeout = TimeSpan.FromSeconds(30);

    // Pull progress moves many times a second; a step's log wants about one line a second.
    private static readonly TimeSpan PullBarInterval = TimeSpan.FromSeconds(1);

    private readonly DockerEngine _engine;
    private readonly bool _ownsEngine;
    private readonly string? _workspaceOwner;
    private readonly int _maxSnapshotLayers;

    /// <summary>Creates a backend over <paramref name="engine"/>.</summary>
    /// <param name="engine">The connected engine.</param>
    /// <param name="ownsEngine">Whether disposing the backend disposes the engine's client.</param>
    /// <param name="workspaceOwner">
    /// <c>uid:gid</c> to hand the workspace's files back to after each step, so a non-root host user can
    /// still remove what the container's root wrote; null leaves ownership alone.
    /// </param>
    /// <param name="maxSnapshotLayers">Layer depth past which a snapshot is flattened (see <see cref="DefaultMaxSnapshotLayers"/>).</param>
    public DockerBackend(DockerEngine engine, bool ownsEngine = true, string? workspaceOwner = null, int maxSnapshotLayers = DefaultMaxSnapshotLayers)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSnapshotLayers, 1);
        if (workspaceOwner is not null && !IsOwner(workspaceOwner))
        {
            throw new ArgumentException($"workspace owner '{workspaceOwner}' is not numeric uid:gid.", nameof(workspaceOwner));
        }

        _engine = engine;
        _ownsEngine = ownsEngine;
        _workspaceOwner = workspaceOwner;
        _maxSnapshotLayers = maxSnapshotLayers;
    }

    /// <inheritdoc />
    public string Name => "docker";

    /// <inheritdoc />
    public bool KeepsSystemState => true;

    /// <summary>
    /// The <c>OwnerLock.Label</c> of the run this backend serves, stamped on every container and image it makes,
    /// so a later run can reap them at once if this one dies. Set before the first step; null stamps none.
    /// </summary>
    public string? RunLock { get; set; }

    /// <summary>
    /// The cache directory's <c>OwnerLock.Label</c>, stamped on every image, so cleanup judges it against that cache only;
    /// the cache's names for its entries' images come from it (<see cref="DockerNames.CacheRepository"/>). Set before keeping or dropping one.
    /// </summary>
    public string? CacheLabel { get; set; }

    /// <summary>The engine this backend drives.</summary>
    public DockerEngine Client => _engine;

    /// <summary>Connects to <paramref name="endpoint"/> and checks its API version; null when no engine answers.</summary>
    public static async Task<DockerBackend?> TryConnectAsync(Uri endpoint, string? workspaceOwner, CancellationToken cancellationToken) =>
        await DockerEngine.ConnectAsync(endpoint, cancellationToken) is { } engine ? new DockerBackend(engine, ownsEngine: true, workspaceOwner) : null;

    /// <inheritdoc />
    /// <remarks>Pull progress goes to the step's stderr as <c>harmont: pulling ...</c> lines.</remarks>
    public Task<StepResult> RunAsync(StepInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        return RunAsync(invocation, line => invocation.Log(LogStream.Stderr, $"harmont: {line}"), cancellationToken);
    }

    /// <summary>Runs the step, reporting the pull of a missing image to <paramref name="pullProgress"/>.</summary>
    /// <param name="invocation">The step to run.</param>
    /// <param name="pullProgress">Receives <c>pulling IMAGE: ...</c> lines, about one a second while byte counts move; null drops them.</param>
    /// <param name="cancellationToken">Kills and removes the container, then throws.</param>
    public Task<StepResult> RunAsync(StepInvocation invocation, Action<string>? pullProgress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        return _engine.GuardAsync(() => RunCoreAsync(invocation, pullProgress, cancellationToken));
    }

    /// <inheritdoc />
    /// <remarks>Waits for containers still being removed first: the engine's client must outlive them.</remarks>
    public async ValueTask DisposeAsync()
    {
        await RemoveNetworkHoldersAsync();
        await AwaitRemovalsAsync();
        if (_ownsEngine)
        {
            _engine.Dispose();
        }
    }

    private static bool IsOwner(string owner)
    {
        var parts = owner.Split(':');
        return parts.Length == 2 && parts.All(p => p.Length > 0 && p.All(char.IsAsciiDigit));
    }

    private async Task<StepResult> RunCoreAsync(StepInvocation invocation, Action<string>? pullProgress, CancellationToken cancellationToken)
    {
        var image = invocation.BaseImage
            ?? throw new ArgumentException($"step '{invocation.StepKey}' has no image; the Docker backend needs one.", nameof(invocation));
        var name = DockerNames.ContainerName(invocation.RunId, invocation.StepKey);
        var binds = new List<string>();
        var spec = BuildSpec(invocation, image, name, binds);
        var completed = false;
        var created = false;
        var network = "";
        var begun = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            var phases = invocation.Phases;
            var baseImage = await EnsureImageAsync(image, pullProgress, cancellationToken);
            network = TakeNetwork(invocation);
            spec.HostConfig!.NetworkMode = network;
            phases?.Mark("image");

            // Written only now, after any pull, and unlinked as soon as the container has started.
            using var secrets = invocation.Secrets.Count > 0
                ? SecretsFile.Write(invocation.Secrets, Path.GetDirectoryName(Path.GetFullPath(invocation.Workspace).TrimEnd('/'))!)
                : null;
            if (secrets is not null)
            {
                binds.Add(secrets.Bind);
            }

            // Count it as created before asking: if the reply is lost to cancellation, the name still finds it.
            created = true;
            string id;
            try
            {
                id = (await _engine.Api.Containers.CreateContainerAsync(spec, cancellationToken)).ID;
            }
            catch (DockerApiException) when (network.StartsWith("container:", StringComparison.Ordinal))
            {
                // The namespace's holder is gone (removed behind the run's back): this step and the rest get their own.
                StopSharingNetworks();
                network = spec.HostConfig!.NetworkMode = NetworkMode(invocation);
                id = (await _engine.Api.Containers.CreateContainerAsync(spec, cancellationToken)).ID;
            }

            phases?.Mark("create");
            var exitCode = await RunToExitAsync(
                id, invocation.Log, invocation.Masker, secrets, phases, cancellationToken, () =>
                {
                    invocation.Timings?.AddSince(Tuning.StepPhase.Start, begun);
                    StartHolderFor(invocation, baseImage, network);
                });
            if (phases is not null)
            {
                await TimeCommandAsync(id, phases, cancellationToken);
            }

            var commit = System.Diagnostics.Stopwatch.GetTimestamp();

            // A commit adds at most one layer on top of the image the container started from.
            var flatten = (baseImage.RootFS?.Layers?.Count ?? 0) + 1 > _maxSnapshotLayers;
            var result = new StepResult(exitCode, null);
            var unchanged = exitCode == 0 && (invocation.CacheKey is not null || invocation.KeepSnapshot)
                ? await ReusableBaseAsync(id, invocation, baseImage, cancellationToken)
                : null;
            phases?.Mark("diff");
            if (unchanged is not null)
            {
                // Adds no bytes: the image is the one the step started from, and is counted where it was made.
                result = new StepResult(exitCode, unchanged);
            }
            else if (exitCode == 0 && invocation.CacheKey is not null)
            {
                // Every cached step's state is kept (docs/cache-store.md), whether or not a child starts from it now.
                var committed = await CommitCachedAsync(id, invocation, flatten, cancellationToken);
                result = new StepResult(exitCode, committed.ID) { SnapshotBytes = flatten ? committed.Size : Math.Max(0, committed.Size - baseImage.Size) };
            }
            else if (exitCode == 0 && invocation.KeepSnapshot)
            {
                result = new StepResult(exitCode, await SnapshotAsync(id, invocation, flatten, cancellationToken));
            }

            invocation.Timings?.AddSince(Tuning.StepPhase.Commit, commit);
            phases?.Mark("commit");
            completed = true;
            return result;
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is not OperationCanceledException)
        {
            // An aborted connection can surface as an I/O error; the caller asked to cancel, so say that.
            throw new OperationCanceledException("the step was cancelled.", ex, cancellationToken);
        }
        finally
        {
            if (completed)
            {
                ReturnNetwork(network);
            }

            if (created)
            {
                var killed = cancellationToken.IsCancellationRequested;
                if (completed && RemovesInBackground)
                {
                    RemoveLater(name);
                }
                else
                {
                    await RemoveContainerAsync(name, kill: killed, rethrow: completed);
                }

                invocation.Phases?.Mark("remove");
                if (killed && !completed && _workspaceOwner is not null)
                {
                    // The kill cut the command's own hand-back short, so a helper does it.
                    await RestoreOwnershipAsync(invocation, image);
                }
            }
        }
    }

    // The binds are the list given, so a bind known only later (the secrets file) can still join it.
    private CreateContainerParameters BuildSpec(StepInvocation invocation, string image, string name, List<string> binds)
    {
        if (invocation.Cwd is { } cwd && !Directory.Exists(Path.Combine(invocation.Workspace, cwd)))
        {
            throw new InvalidOperationException(
                $"step '{invocation.StepKey}' runs in '{cwd}', which is not a directory of its workspace. Create it in a parent step or fix Cwd.");
        }

        binds.Add(WorkspaceBind(invocation));
        foreach (var (host, path) in invocation.Mounts)
        {
            if (host.Contains(':', StringComparison.Ordinal))
            {
                throw new ArgumentException($"cache mount directory '{host}' contains ':', which a Docker bind mount cannot express; set HARMONT_CACHE_DIR to a path without one.", nameof(invocation));
            }

            binds.Add($"{host}:{StepInvocation.MountTarget(path, "/root")}");
        }

        var command = invocation.Secrets.Count == 0 ? invocation.Command : SecretsFile.Wrap(invocation.Command);
        return new CreateContainerParameters
        {
            Name = name,
            Image = image,
            Cmd = BuildCommand(command, _workspaceOwner),
            Env = invocation.Env.Select(p => $"{p.Key}={p.Value}").ToList(),
            WorkingDir = invocation.Cwd is null ? "/workspace" : $"/workspace/{invocation.Cwd}",
            Labels = ContainerLabels(invocation),

            // No TTY, so the output stays split by stream.
            AttachStdout = true,
            AttachStderr = true,
            HostConfig = new HostConfig
            {
                Binds = binds,
                NetworkMode = NetworkMode(invocation), // or a shared namespace: see TakeNetwork

                // Output is read through attach, and a log driver's file would keep a step's unmasked
                // output (secrets included) on the engine's disk.
                LogConfig = new LogConfig { Type = "none" },
            },
        };
    }

    // "default" is the engine's own default (its bridge): a step that never chose keeps what it always had.
    private static string NetworkMode(StepInvocation invocation) => invocation.Network switch
    {
        Network.Default => "default",
        Network.Bridge => "bridge",
        Network.None => "none",
        Network.Host => "host",
        var other => throw new ArgumentException(
            $"step '{invocation.StepKey}' asks for network {(int)other}, which is not one of Default, Bridge, None or Host.", nameof(invocation)),
    };

    private static string WorkspaceBind(StepInvocation invocation)
    {
        var workspace = Path.GetFullPath(invocation.Workspace);
        if (workspace.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException($"workspace path '{workspace}' contains ':', which a Docker bind mount cannot express.", nameof(invocation));
        }

        return $"{workspace}:/workspace";
    }

    private Dictionary<string, string> ContainerLabels(StepInvocation invocation) => WithLock(new(StringComparer.Ordinal)
    {
        [DockerNames.OwnerLabel] = "1",
        [DockerNames.RunLabel] = invocation.RunId,
        [DockerNames.StepLabel] = invocation.StepKey,
    });

    // Always set, even to nothing: a commit inherits its base image's labels, and a cached parent's lock is another run's.
    private Dictionary<string, string> WithLock(Dictionary<string, string> labels)
    {
        labels[DockerNames.LockLabel] = RunLock ?? "";
        labels[DockerNames.CacheLabel] = CacheLabel ?? "";
        return labels;
    }

    private async Task<ImageInspectResponse> EnsureImageAsync(string image, Action<string>? progress, CancellationToken cancellationToken)
    {
        if (await _engine.InspectImageAsync(image, cancellationToken) is { } present)
        {
            return present;
        }

        progress?.Invoke($"pulling {image}: not present locally");
        try
        {
            await _engine.PullImageAsync(image, progress is null ? null : line => progress($"pulling {image}: {line}"), PullBarInterval, cancellationToken);
        }
        catch (Exception ex) when (ex is DockerEngineException || DockerEngine.IsFailure(ex))
        {
            var failure = _engine.Translate(ex);
            var reason = failure.EngineMessage.Length > 0 ? failure.EngineMessage : failure.Message;
            throw new DockerEngineException(
                failure.StatusCode,
                failure.EngineMessage,
                $"image '{image}' is not present and could not be pulled: {reason}. " +
                "Build or import it locally (docker import / docker build) or set Image= to one that exists.",
                ex);
        }

        return await _engine.InspectImageAsync(image, cancellationToken)
            ?? throw new DockerEngineException($"image '{image}' was pulled, but the engine does not have it under that name.");
    }
}
