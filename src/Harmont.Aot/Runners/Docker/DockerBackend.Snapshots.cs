using System.Net;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Harmont.Aot.Runners.Docker;

// Snapshots: committing a step's container, flattening deep ones, keeping cached ones, reaping the rest.
internal sealed partial class DockerBackend
{
    private readonly List<string> _snapshots = [];

    // Cached steps' images by id, with the run's own name for each (see CommitCachedAsync); under _snapshots' lock.
    private readonly Dictionary<string, string> _runNames = new(StringComparer.Ordinal);

    // Published cached images: the run's name for each, its id and its key; the name goes in ReapAsync.
    private readonly List<(string Reference, string Image, string Key)> _kept = [];

    // Ids of the cache images on the engine, listed once per run (CachedImages); under _snapshots' lock.
    private Task<HashSet<string>>? _cachedImages;

    /// <inheritdoc />
    /// <remarks>
    /// The run's first question lists every cached image at once, so a run of many hits asks the engine
    /// once; an image not in that list is asked about on its own. The list is dropped when the run ends.
    /// </remarks>
    public Task<bool> HasSnapshotAsync(string snapshot, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(snapshot);
        return _engine.GuardAsync(async () =>
        {
            try
            {
                if ((await CachedImages().WaitAsync(cancellationToken)).Contains(snapshot))
                {
                    return true;
                }
            }
            catch (Exception ex) when (DockerEngine.IsFailure(ex))
            {
                // The list is only a shortcut; the single question below decides.
            }

            return await _engine.InspectImageAsync(snapshot, cancellationToken) is not null;
        });
    }

    /// <summary>Starts listing the engine's cached images now, so the run's first hit does not wait for it.</summary>
    public void PrefetchSnapshots() => _ = CachedImages();

    /// <inheritdoc />
    public Task KeepSnapshotAsync(string snapshot, string cacheKey, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(snapshot);
        ArgumentException.ThrowIfNullOrEmpty(cacheKey);
        var repository = OwnCacheRepository();
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

        return _engine.GuardAsync(() => _engine.TagImageAsync(snapshot, repository, DockerNames.CacheTag(cacheKey), cancellationToken));
    }

    /// <inheritdoc />
    /// <remarks>
    /// By this cache's tag while the tag is still the entry's: a cached child's image may stack on its layers, and
    /// untagging leaves them to it; an image that another name also holds (another entry's, when a step that changed
    /// nothing shares its parent's; another cache dir's on this engine; one from before each cache named its own,
    /// which orphan collection judges) stays for it. A tag that has moved is another entry's now (a run re-recorded
    /// the key since): the entry's own image goes by id, but only once nothing names it, since the engine
    /// deletes an image with a single name when asked by id.
    /// </remarks>
    public Task DropSnapshotAsync(string snapshot, string cacheKey, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(snapshot);
        ArgumentException.ThrowIfNullOrEmpty(cacheKey);
        var reference = $"{OwnCacheRepository()}:{DockerNames.CacheTag(cacheKey)}";
        return _engine.GuardAsync(async () =>
        {
            if ((await _engine.InspectImageAsync(reference, cancellationToken))?.ID == snapshot)
            {
                await _engine.RemoveImageAsync(reference, force: false, cancellationToken);
                return;
            }

            if ((await _engine.InspectImageAsync(snapshot, cancellationToken))?.RepoTags is { Count: > 0 })
            {
                return; // Named elsewhere: it goes with its last name.
            }

            try
            {
                await _engine.RemoveImageAsync(snapshot, force: false, cancellationToken);
            }
            catch (DockerApiException ex) when (ex.StatusCode == HttpStatusCode.Conflict)
            {
                // Named elsewhere too, or a parent of another image: it goes when they do.
            }
        });
    }

    /// <inheritdoc />
    /// <remarks>Containers still being removed are waited for first: an image goes only once no container uses it.</remarks>
    public async Task ReapAsync(CancellationToken cancellationToken)
    {
        await RemoveNetworkHoldersAsync();
        var failures = await AwaitRemovalsAsync();
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

        foreach (var image in images)
        {
            try
            {
                await _engine.RemoveImageAsync(image, force: true, cancellationToken);
            }
            catch (Exception ex) when (DockerEngine.IsFailure(ex))
            {
                (failures ??= []).Add(_engine.Translate(ex));
            }
        }

        foreach (var (reference, image, key) in kept)
        {
            try
            {
                // The run still leases these entries, so their tags belong where they point; one a racing
                // removal took is put back before the run's own name, the image's last hold, goes.
                await _engine.TagImageAsync(image, OwnCacheRepository(), DockerNames.CacheTag(key), cancellationToken);
                await _engine.RemoveImageAsync(reference, force: false, cancellationToken);
            }
            catch (Exception ex) when (DockerEngine.IsFailure(ex))
            {
                (failures ??= []).Add(_engine.Translate(ex));
            }
        }

        if (failures is not null)
        {
            throw new AggregateException("some containers or ephemeral snapshots could not be removed.", failures);
        }
    }

    // Ephemeral is set explicitly either way: a commit inherits its base image's labels, and a cached
    // step's parent may be an ephemeral snapshot that GC would otherwise take the cached image for.
    private Dictionary<string, string> SnapshotLabels(StepInvocation invocation, bool ephemeral = true) => WithLock(new(StringComparer.Ordinal)
    {
        [DockerNames.OwnerLabel] = "1",
        [DockerNames.RunLabel] = invocation.RunId,
        [DockerNames.EphemeralLabel] = ephemeral ? "1" : "0",
    });

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
            await _engine.CommitAsync(id, DockerNames.SnapshotRepository, tag, labels, cancellationToken);
        }

        return reference;
    }

    /// <summary>
    /// Commits a cached step's container under the run's own name (<see cref="DockerNames.SnapshotRepository"/>)
    /// and returns it. It is reaped with the run like an ephemeral snapshot until <see cref="KeepSnapshotAsync"/>
    /// names it from the key, which happens only when its cache entry is the one published: two runs racing
    /// on one key never move each other's tag, and the loser's image goes with its run.
    /// </summary>
    private async Task<ImageInspectResponse> CommitCachedAsync(string id, StepInvocation invocation, bool flatten, CancellationToken cancellationToken)
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
            : await _engine.CommitAsync(id, DockerNames.SnapshotRepository, tag, labels, cancellationToken);
        lock (_snapshots)
        {
            _runNames[image] = reference;
        }

        return await _engine.InspectImageAsync(image, cancellationToken)
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

    // The images this cache names, and those named the way every cache did before each named its own; any other
    // image is asked about on its own. A backend with no cache has none.
    private async Task<HashSet<string>> ListCachedImagesAsync()
    {
        if (CacheLabel is not { Length: > 0 } cache)
        {
            return [];
        }

        var images = await _engine.ListImagesAsync([], CancellationToken.None, repositories: [DockerNames.CacheRepository(cache), DockerNames.LegacyCacheRepository]);
        return [.. images.Select(i => i.ID)];
    }

    // Where this backend's cache names its entries' images; only a backend serving a cache keeps or drops them.
    private string OwnCacheRepository() => CacheLabel is { Length: > 0 } cache
        ? DockerNames.CacheRepository(cache)
        : throw new InvalidOperationException("the Docker backend serves no cache dir (CacheLabel is unset), so it has no name for a cached image.");

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
        var config = (await _engine.InspectContainerAsync(id, cancellationToken))?.Config
            ?? throw new DockerEngineException($"container {id} vanished before its snapshot was flattened.");

        // Labelled like a snapshot, so GC finds it if this run dies before the commit below claims it.
        string flat;
        using (var tar = await _engine.Api.Containers.ExportContainerAsync(id, cancellationToken))
        {
            flat = await _engine.ImportImageAsync(tar, labels, cancellationToken);
        }

        var carrierLabels = new Dictionary<string, string>(config.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        foreach (var (key, value) in ContainerLabels(invocation))
        {
            carrierLabels[key] = value;
        }

        // The typed config carries every field of the engine's container config (env, entrypoint, user,
        // healthcheck, volumes, stop signal, shell, ...); only the image and the labels change.
        var carrier = new CreateContainerParameters(config)
        {
            Name = DockerNames.ContainerName(invocation.RunId, invocation.StepKey + "-flatten"),
            Image = flat,
            Labels = carrierLabels,
        };
        try
        {
            // Untagged, the imported image then lives on only as the snapshot's parent, and goes when the snapshot does.
            await _engine.Api.Containers.CreateContainerAsync(carrier, cancellationToken);
            return await _engine.CommitAsync(carrier.Name, repository, tag, labels, cancellationToken);
        }
        finally
        {
            await RemoveContainerAsync(carrier.Name, kill: false, rethrow: false);
        }
    }
}
