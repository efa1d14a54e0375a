namespace Harmont.Aot.Runners.Docker;

/// <summary>Runs each step in its own container, bind-mounting the workspace, and commits it when a child needs its state.</summary>
internal sealed class DockerBackend : IStepBackend
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

    // Pull progress bars move many times a second; a step's log wants about one line a second.
    private static readonly TimeSpan PullBarInterval = TimeSpan.FromSeconds(1);

    private readonly DockerEngineClient _client;
    private readonly bool _ownsClient;
    private readonly string? _workspaceOwner;
    private readonly int _maxSnapshotLayers;
    private readonly List<string> _snapshots = [];

    // Cached steps' images by id, with the run's own name for each (see CommitCachedAsync); under _snapshots' lock.
    private readonly Dictionary<string, string> _runNames = new(StringComparer.Ordinal);

    // Published cached images: the run's name for each, its id and its key; the name goes in ReapAsync.
    private readonly List<(string Reference, string Image, string Key)> _kept = [];

    // Ids of the cache images on the engine, listed once per run (CachedImages); under _snapshots' lock.
    private Task<HashSet<string>>? _cachedImages;

    /// <summary>Creates a backend over <paramref name="client"/>.</summary>
    /// <param name="client">The engine client.</param>
    /// <param name="ownsClient">Whether disposing the backend disposes the client.</param>
    /// <param name="workspaceOwner">
    /// <c>uid:gid</c> to hand the workspace's files back to after each step, so a non-root host user can
    /// still remove what the container's root wrote; null leaves ownership alone.
    /// </param>
    /// <param name="maxSnapshotLayers">Layer depth past which a snapshot is flattened (see <see cref="DefaultMaxSnapshotLayers"/>).</param>
    public DockerBackend(DockerEngineClient client, bool ownsClient = true, string? workspaceOwner = null, int maxSnapshotLayers = DefaultMaxSnapshotLayers)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSnapshotLayers, 1);
        if (workspaceOwner is not null && !IsOwner(workspaceOwner))
        {
            throw new ArgumentException($"workspace owner '{workspaceOwner}' is not numeric uid:gid.", nameof(workspaceOwner));
        }

        _client = client;
        _ownsClient = ownsClient;
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

    /// <summary>The cache directory's <c>OwnerLock.Label</c>, stamped on every image, so cleanup judges it against that cache only.</summary>
    public string? CacheLabel { get; set; }

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
    /// <remarks>Pull progress goes to the step's stderr as <c>harmont: pulling ...</c> lines.</remarks>
    public Task<StepResult> RunAsync(StepInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        return RunAsync(invocation, line => invocation.Log(LogStream.Stderr, $"harmont: {line}"), cancellationToken);
    }

    /// <summary>Runs the step, reporting the pull of a missing image to <paramref name="pullProgress"/>.</summary>
    /// <param name="invocation">The step to run.</param>
    /// <param name="pullProgress">Receives <c>pulling IMAGE: ...</c> lines, about one a second while bars move; null drops them.</param>
    /// <param name="cancellationToken">Kills and removes the container, then throws.</param>
    public async Task<StepResult> RunAsync(StepInvocation invocation, Action<string>? pullProgress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var image = invocation.BaseImage
            ?? throw new ArgumentException($"step '{invocation.StepKey}' has no image; the Docker backend needs one.", nameof(invocation));
        var spec = BuildSpec(invocation, image);
        var completed = false;
        var created = false;
        try
        {
            var baseImage = await EnsureImageAsync(image, pullProgress, cancellationToken);

            // Written only now, after any pull, and unlinked as soon as the container has started.
            using var secrets = invocation.Secrets.Count > 0
                ? SecretsFile.Write(invocation.Secrets, Path.GetDirectoryName(Path.GetFullPath(invocation.Workspace).TrimEnd('/'))!)
                : null;

            // Count it as created before asking: if the reply is lost to cancellation, the name still finds it.
            created = true;
            var id = await _client.CreateContainerAsync(secrets is null ? spec : spec with { Binds = [.. spec.Binds!, secrets.Bind] }, cancellationToken);
            var exitCode = await RunToExitAsync(id, invocation.Log, invocation.Masker, secrets, cancellationToken);

            // A commit adds at most one layer on top of the image the container started from.
            var flatten = baseImage.LayerCount + 1 > _maxSnapshotLayers;
            var result = new StepResult(exitCode, null);
            if (exitCode == 0 && invocation.CacheKey is not null)
            {
                // Every cached step's state is kept (DESIGN §7), whether or not a child starts from it now.
                var committed = await CommitCachedAsync(id, invocation, flatten, cancellationToken);
                result = new StepResult(exitCode, committed.Id) { SnapshotBytes = flatten ? committed.Size : Math.Max(0, committed.Size - baseImage.Size) };
            }
            else if (exitCode == 0 && invocation.KeepSnapshot)
            {
                result = new StepResult(exitCode, await SnapshotAsync(id, invocation, flatten, cancellationToken));
            }

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
            if (created)
            {
                var killed = cancellationToken.IsCancellationRequested;
                await RemoveContainerAsync(spec.Name!, kill: killed, rethrow: completed);
                if (killed && !completed && _workspaceOwner is not null)
                {
                    // The kill cut the command's own hand-back short, so a helper does it.
                    await RestoreOwnershipAsync(invocation, image);
                }
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// The run's first question lists every cached image at once, so a run of many hits asks the engine
    /// once; an image not in that list is asked about on its own. The list is dropped when the run ends.
    /// </remarks>
    public async Task<bool> HasSnapshotAsync(string snapshot, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(snapshot);
        try
        {
            if ((await CachedImages().WaitAsync(cancellationToken)).Contains(snapshot))
            {
                return true;
            }
        }
        catch (DockerEngineException)
        {
            // The list is only a shortcut; the single question below decides.
        }

        return await _client.ImageExistsAsync(snapshot, cancellationToken);
    }

    /// <summary>Starts listing the engine's cached images now, so the run's first hit does not wait for it.</summary>
    public void PrefetchSnapshots() => _ = CachedImages();

    /// <inheritdoc />
    public async Task KeepSnapshotAsync(string snapshot, string cacheKey, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(snapshot);
        ArgumentException.ThrowIfNullOrEmpty(cacheKey);
        lock (_snapshots)
        {
            // No longer the run's to reap, even if the tag below fails: the entry names the image by id.
            // The run's own name stays on it until the run ends, so no removal of the cache tag meanwhile
            // (a prune racing this publish) can take the image from under the run's children.
            if (_runNames.Remove(snapshot, out var reference))
            {
                _snapshots.Remove(reference);
                _kept.Add((reference, snapshot, cacheKey));
            }
        }

        await _client.TagImageAsync(snapshot, DockerNames.CacheRepository, DockerNames.CacheTag(cacheKey), cancellationToken);
    }

    /// <inheritdoc />
    public async Task ReapAsync(CancellationToken cancellationToken)
    {
        string[] images;
        (string Reference, string Image, string Key)[] kept;
        lock (_snapshots)
        {
            // Newest first: a child goes before its parent, so each removal frees its layers.
            images = [.. Enumerable.Reverse(_snapshots)];
            kept = [.. _kept];
            _snapshots.Clear();
            _runNames.Clear();
            _kept.Clear();
            _cachedImages = null;
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

        foreach (var (reference, image, key) in kept)
        {
            try
            {
                // The run still leases these entries, so their tags belong where they point; one a racing
                // removal took is put back before the run's own name, the image's last hold, goes.
                await _client.TagImageAsync(image, DockerNames.CacheRepository, DockerNames.CacheTag(key), cancellationToken);
                await _client.RemoveImageAsync(reference, force: false, cancellationToken);
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

    private static bool IsOwner(string owner)
    {
        var parts = owner.Split(':');
        return parts.Length == 2 && parts.All(p => p.Length > 0 && p.All(char.IsAsciiDigit));
    }

    private ContainerSpec BuildSpec(StepInvocation invocation, string image)
    {
        if (invocation.Cwd is { } cwd && !Directory.Exists(Path.Combine(invocation.Workspace, cwd)))
        {
            throw new InvalidOperationException(
                $"step '{invocation.StepKey}' runs in '{cwd}', which is not a directory of its workspace. Create it in a parent step or fix Cwd.");
        }

        var command = invocation.Secrets.Count == 0 ? invocation.Command : SecretsFile.Wrap(invocation.Command);
        return new(image, BuildCommand(command, _workspaceOwner))
        {
            Name = DockerNames.ContainerName(invocation.RunId, invocation.StepKey),
            Env = invocation.Env.Select(p => $"{p.Key}={p.Value}").ToArray(),
            WorkingDir = invocation.Cwd is null ? "/workspace" : $"/workspace/{invocation.Cwd}",
            Binds = [WorkspaceBind(invocation)],
            Labels = ContainerLabels(invocation),
            LogDriver = "none",
        };
    }

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

    // Ephemeral is set explicitly either way: a commit inherits its base image's labels, and a cached
    // step's parent may be an ephemeral snapshot that GC would otherwise take the cached image for.
    private Dictionary<string, string> SnapshotLabels(StepInvocation invocation, bool ephemeral = true) => WithLock(new(StringComparer.Ordinal)
    {
        [DockerNames.OwnerLabel] = "1",
        [DockerNames.RunLabel] = invocation.RunId,
        [DockerNames.EphemeralLabel] = ephemeral ? "1" : "0",
    });

    // Always set, even to nothing: a commit inherits its base image's labels, and a cached parent's lock is another run's.
    private Dictionary<string, string> WithLock(Dictionary<string, string> labels)
    {
        labels[DockerNames.LockLabel] = RunLock ?? "";
        labels[DockerNames.CacheLabel] = CacheLabel ?? "";
        return labels;
    }

    private async Task<ImageInspect> EnsureImageAsync(string image, Action<string>? progress, CancellationToken cancellationToken)
    {
        if (await _client.InspectImageAsync(image, cancellationToken) is { } present)
        {
            return present;
        }

        progress?.Invoke($"pulling {image}: not present locally");
        try
        {
            await _client.PullImageAsync(
                image, progress is null ? null : line => progress($"pulling {image}: {line}"), cancellationToken, PullBarInterval);
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

        return await _client.InspectImageAsync(image, cancellationToken)
            ?? throw new DockerEngineException($"image '{image}' was pulled, but the engine does not have it under that name.");
    }

    private async Task<int> RunToExitAsync(string id, Action<LogStream, string> log, SecretMasker masker, SecretsFile? secrets, CancellationToken cancellationToken)
    {
        // Attached before start, so the very first line is seen; see DockerEngineClient.AttachAsync
        // for why this is not a followed log.
        using var output = await _client.AttachAsync(id, cancellationToken);
        using var outputCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var lines = output.ReadLinesAsync(log, masker, outputCancel.Token);
        long status;
        try
        {
            await _client.StartContainerAsync(id, cancellationToken);

            // Started, the container holds the file through its mount; the name on the host can go now.
            secrets?.Dispose();
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

    private async Task<string> SnapshotAsync(string id, StepInvocation invocation, bool flatten, CancellationToken cancellationToken)
    {
        var tag = DockerNames.SnapshotTag(invocation.RunId, invocation.StepKey);
        var reference = $"{DockerNames.SnapshotRepository}:{tag}";
        lock (_snapshots)
        {
            // Remembered before committing, so a commit that completes after cancellation is still reaped.
            _snapshots.Add(reference);
        }

        var labels = SnapshotLabels(invocation);
        if (flatten)
        {
            await FlattenAsync(id, invocation, DockerNames.SnapshotRepository, tag, labels, cancellationToken);
        }
        else
        {
            await _client.CommitAsync(id, DockerNames.SnapshotRepository, tag, labels, cancellationToken);
        }

        return reference;
    }

    /// <summary>
    /// Commits a cached step's container under the run's own name (<see cref="DockerNames.SnapshotRepository"/>)
    /// and returns it. It is reaped with the run like an ephemeral snapshot until <see cref="KeepSnapshotAsync"/>
    /// names it from the key, which happens only when its cache entry is the one published: two runs racing
    /// on one key never move each other's tag, and the loser's image goes with its run.
    /// </summary>
    private async Task<ImageInspect> CommitCachedAsync(string id, StepInvocation invocation, bool flatten, CancellationToken cancellationToken)
    {
        // Remembered before committing, so a commit that completes after cancellation is still reaped; a run
        // killed before keeping it leaves an image labelled with its dead lock, which the next run reaps.
        var tag = DockerNames.SnapshotTag(invocation.RunId, invocation.StepKey);
        var reference = $"{DockerNames.SnapshotRepository}:{tag}";
        lock (_snapshots)
        {
            _snapshots.Add(reference);
        }

        var labels = SnapshotLabels(invocation, ephemeral: false);
        var image = flatten
            ? await FlattenAsync(id, invocation, DockerNames.SnapshotRepository, tag, labels, cancellationToken)
            : await _client.CommitAsync(id, DockerNames.SnapshotRepository, tag, labels, cancellationToken);
        lock (_snapshots)
        {
            _runNames[image] = reference;
        }

        return await _client.InspectImageAsync(image, cancellationToken)
            ?? throw new DockerEngineException($"the engine committed image {image} but does not have it.");
    }

    // The run's one listing of the engine's cached images, started by whoever asks first.
    private Task<HashSet<string>> CachedImages()
    {
        lock (_snapshots)
        {
            return _cachedImages ??= ListCachedImagesAsync();
        }
    }

    private async Task<HashSet<string>> ListCachedImagesAsync()
    {
        var images = await _client.ListImagesAsync([$"{DockerNames.OwnerLabel}=1", $"{DockerNames.EphemeralLabel}=0"], CancellationToken.None);
        return [.. images.Select(i => i.Id)];
    }

    /// <summary>Snapshots the container as a fresh one-layer image with the config a commit would give it.</summary>
    /// <remarks>
    /// The export streams straight into the import, so the filesystem is never held in memory or on disk here.
    /// The config is not rebuilt from Dockerfile-style <c>changes</c>, which cannot carry every value
    /// (an env value with a newline, a healthcheck): a container is created from the imported filesystem
    /// with the stopped container's own config and committed. Its diff is empty, so no layer is added.
    /// </remarks>
    private async Task<string> FlattenAsync(
        string id, StepInvocation invocation, string? repository, string? tag, Dictionary<string, string> labels, CancellationToken cancellationToken)
    {
        var config = (await _client.InspectContainerAsync(id, cancellationToken))?.Config
            ?? throw new DockerEngineException($"container {id} vanished before its snapshot was flattened.");

        // Labelled like a snapshot, so GC finds it if this run dies before the commit below claims it.
        string? flat = null;
        await _client.ExportContainerAsync(id, async tar => flat = await _client.ImportImageAsync(tar, labels, cancellationToken), cancellationToken);

        var carrierLabels = new Dictionary<string, string>(config.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        foreach (var (key, value) in ContainerLabels(invocation))
        {
            carrierLabels[key] = value;
        }

        var carrierName = DockerNames.ContainerName(invocation.RunId, invocation.StepKey + "-flatten");
        try
        {
            // Untagged, the imported image then lives on only as the snapshot's parent, and goes when the snapshot does.
            await _client.CreateContainerAsync(config with { Image = flat!, Labels = carrierLabels }, carrierName, cancellationToken);
            return await _client.CommitAsync(carrierName, repository, tag, labels, cancellationToken);
        }
        finally
        {
            await RemoveContainerAsync(carrierName, kill: false, rethrow: false);
        }
    }

    /// <summary>Hands a killed step's workspace back to its owner from a short-lived helper container.</summary>
    private async Task RestoreOwnershipAsync(StepInvocation invocation, string image)
    {
        // Never the caller's token, which has fired; a bounded one of our own instead.
        using var timeout = new CancellationTokenSource(OwnershipHelperTimeout);
        var spec = new ContainerSpec(image, ["sh", "-c", OwnershipScript(_workspaceOwner!)])
        {
            Name = DockerNames.ContainerName(invocation.RunId, invocation.StepKey + "-chown"),
            WorkingDir = "/workspace",
            Binds = [WorkspaceBind(invocation)],
            Labels = ContainerLabels(invocation),
        };
        try
        {
            await _client.CreateContainerAsync(spec, timeout.Token);
            await _client.StartContainerAsync(spec.Name!, timeout.Token);
            await _client.WaitContainerAsync(spec.Name!, timeout.Token);
        }
        catch (Exception ex) when (ex is DockerEngineException or OperationCanceledException or IOException)
        {
            invocation.Log(LogStream.Stderr, $"harmont: could not hand the workspace back to {_workspaceOwner} after cancelling: {ex.Message}");
        }
        finally
        {
            await RemoveContainerAsync(spec.Name!, kill: true, rethrow: false);
        }
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
