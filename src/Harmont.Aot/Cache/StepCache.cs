using System.Collections.Concurrent;
using Harmont.Aot.Cache.Remote;
using Harmont.Aot.Model;
using Harmont.Aot.Runners;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Cache;

/// <summary>
/// One run's use of the store (docs/cache-store.md): for each cached step, hit or
/// miss-and-record; for the rest, miss-without-record. A hit holds its entry's shared lock until the
/// run ends, so eviction by a concurrent run can never take an output a child is starting from.
/// </summary>
internal sealed partial class StepCache : IDisposable
{
    private const string WorkspaceDir = "workspace";
    private const string SourcesFile = "sources";

    // A layered lineage deeper than this would not fit one overlay mount's options anyway.
    private const int MaxLayers = 64;
    private readonly CacheStore _store;
    private readonly TimeProvider _clock;
    private readonly ConcurrentBag<CacheLease> _leases = [];
    private readonly ConcurrentDictionary<string, string> _outcomes = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _warnings = new();
    private readonly ConcurrentQueue<string> _condemned = new();
    private readonly RemoteCache? _remote;
    private readonly ConcurrentDictionary<string, Tuning.RecordedEntry> _recorded = new(StringComparer.Ordinal);
    private int _published;

    /// <summary>One run's cache over <paramref name="store"/>; with <paramref name="remote"/>, local misses ask it and new entries go to it.</summary>
    public StepCache(CacheStore store, CachePlan plan, TimeProvider clock, RemoteCache? remote = null)
    {
        _store = store;
        Plan = plan;
        _clock = clock;
        _remote = remote;
    }

    public CachePlan Plan { get; }

    /// <summary>How each step ended, as the run record keeps it.</summary>
    public IReadOnlyDictionary<string, string> Outcomes => _outcomes;

    /// <summary>
    /// Looks the step up. A hit needs a complete entry from the same backend; when a child will start from
    /// it, also its output workspace, and for a workspace stored as a layer, every entry below it, each leased
    /// with it; and when a child may run from its system state, its image still on the engine (the only
    /// question for the engine, so a run whose steps all hit never asks it). An entry that fails any of these
    /// is dropped (and said why) and the step runs.
    /// </summary>
    /// <param name="step">The step.</param>
    /// <param name="backend">The backend the step would run on.</param>
    /// <param name="needsWorkspace">Whether a child will start from the step's output workspace.</param>
    /// <param name="needsSnapshot">Whether a child may start from the step's committed system state.</param>
    /// <param name="workspaceStrategy">This run's workspace strategy; asked only when a layered workspace is needed.</param>
    /// <param name="cancellationToken">Stops the image check.</param>
    public async Task<CacheLookup> LookUpAsync(
        string step, IStepBackend backend, bool needsWorkspace, bool needsSnapshot, Func<string> workspaceStrategy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(workspaceStrategy);
        if (Plan[step].Key is not { } key)
        {
            return CacheLookup.Miss;
        }

        // A local miss asks the shared cache, which publishes what it brings in like any entry.
        var lease = _store.TryOpen(key);
        if (lease is null && _remote is not null && OperatingSystem.IsLinux() && await _remote.FetchAsync(key, backend.Name, cancellationToken))
        {
            Interlocked.Increment(ref _published); // The store grew: the run's end cuts it back to its bound.
            lease = _store.TryOpen(key);
        }

        if (lease is null)
        {
            return CacheLookup.Miss;
        }

        var entry = lease.Entry;
        string? stale;
        try
        {
            stale = LocalStaleness(lease, backend.Name, needsWorkspace, needsSnapshot);
            if (stale is null && needsSnapshot && entry.Image is { } image && !await backend.HasSnapshotAsync(image, cancellationToken))
            {
                stale = $"its image {image} is no longer on the engine";
            }
        }
        catch
        {
            lease.Dispose();
            throw;
        }

        var layers = new List<string>();
        if (stale is null)
        {
            stale = Hold(lease, leases => needsWorkspace ? OpenLayers(workspaceStrategy, leases, layers) : null);
        }
        else
        {
            lease.Dispose();
        }

        if (stale is not null)
        {
            _store.TryRemove(key);
            return new CacheLookup(null, $"cache entry {key[..16]} dropped: {stale}; running the step");
        }

        return new CacheLookup(new CacheHit(key, layers, Path.Combine(lease.Directory, SourcesFile), entry.Image), null);
    }

    /// <summary>
    /// Stores a passed step's output: <see cref="RecordedOutput.Persist"/> puts the workspace into the
    /// staged entry (a clone, or its own overlay layer when it stacks on a cached entry), the source
    /// manifest is written beside it, and the entry is published by one rename. False when another run
    /// published the same key first; its entry stays.
    /// </summary>
    /// <param name="step">The step that passed.</param>
    /// <param name="image">Its committed image, if one was kept, and the bytes it adds.</param>
    /// <param name="backend">The backend it ran on.</param>
    /// <param name="output">Its output workspace, the source listing and how to persist the workspace.</param>
    /// <param name="cancellationToken">Stops the copy.</param>
    public async Task<bool> RecordAsync(string step, (string? Id, long Bytes) image, string backend, RecordedOutput output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        var plan = Plan[step];
        var key = plan.Key ?? throw new InvalidOperationException($"step '{step}' is not cached.");
        var published = await PublishAsync(key, step, backend, plan.Components, image, output, cancellationToken);
        if (published is not var (lease, layered))
        {
            return false;
        }

        _recorded[step] = new(lease.Entry.Size, Tuning.OutputDigest.StartOfEntry(lease.Directory, layered));
        if (OperatingSystem.IsLinux())
        {
            _remote?.Push(key);
        }

        return true;
    }

    // Stages the entry (the workspace persisted as a clone or as its own layer, the source manifest beside it, the
    // record) and publishes it, leased until the run ends: its children start from its image and output. Null when
    // another run published the key first.
    private async Task<(CacheLease Lease, bool Layered)?> PublishAsync(
        string key, string step, string backend, IReadOnlyDictionary<string, string> components, (string? Id, long Bytes) image, RecordedOutput output, CancellationToken cancellationToken)
    {
        var staged = _store.BeginEntry();
        try
        {
            var layer = await output.Persist(output.Workspace, Path.Combine(staged, WorkspaceDir), cancellationToken);
            output.Manifest.Write(Path.Combine(staged, SourcesFile));
            var entry = new CacheEntry
            {
                Format = layer is null ? CacheEntry.CurrentFormat : CacheEntry.LayeredFormat,
                Key = key,
                Pipeline = Plan.Pipeline,
                Step = step,
                Components = components,
                Created = _clock.GetUtcNow(),
                Image = image.Id,
                ImageSize = image.Bytes,
                Backend = backend,
                HasWorkspace = true,
                Base = layer?.Base,
                LayerStrategy = layer?.Strategy,
            };
            if (_store.PublishLeased(staged, entry) is not { } lease)
            {
                return null;
            }

            _leases.Add(lease);
            Interlocked.Increment(ref _published);
            return (lease, layer is not null);
        }
        catch
        {
            _store.Abandon(staged);
            throw;
        }
    }

    /// <summary>What each entry this run published added, for the run record: its bytes, and its output digest (hashed in the background).</summary>
    public IReadOnlyDictionary<string, Tuning.RecordedEntry> Recorded => _recorded;

    /// <summary>How many entries this run published: with none, the store cannot have grown.</summary>
    public int Published => Volatile.Read(ref _published);

    /// <summary>Warnings for <c>--explain</c>: source files a hit's child saw over what the cached steps had done to them.</summary>
    public IReadOnlyCollection<string> Warnings => [.. _warnings];

    /// <summary>Adds a warning for <c>--explain</c>.</summary>
    public void AddWarning(string warning) => _warnings.Enqueue(warning);

    /// <summary>Notes how a step ended, for the run record.</summary>
    public void SetOutcome(string step, string outcome) => _outcomes[step] = outcome;

    /// <summary>
    /// Marks a hit's entry as damaged (its source manifest did not read): it is removed when this run lets go
    /// of its entries, so the next run executes the step instead of failing its child again.
    /// </summary>
    public void Condemn(string key) => _condemned.Enqueue(key);

    /// <summary>Releases every entry this run used, then removes the condemned ones.</summary>
    public void Dispose()
    {
        while (_leases.TryTake(out var lease))
        {
            lease.Dispose();
        }

        while (_condemned.TryDequeue(out var key))
        {
            _store.TryRemove(key);
        }
    }

    /// <summary>
    /// The hit with its output workspace opened, for a child that runs from it though its lookup expected none
    /// to (every child looked cached then): its layers are leased now. One that will not do is condemned, and
    /// the child fails with a message to run again, when the parent executes.
    /// </summary>
    public CacheHit WithWorkspace(string step, CacheHit hit, Func<string> workspaceStrategy)
    {
        ArgumentNullException.ThrowIfNull(hit);
        if (hit.Layers.Count > 0)
        {
            return hit;
        }

        if (OpenWorkspace(hit.Key, null, workspaceStrategy, out var why) is { } opened)
        {
            return hit with { Layers = opened.Layers };
        }

        Condemn(hit.Key);
        throw new PipelineException(
            $"the cached output of '{step}' ({hit.Key[..16]}) cannot be used: {why}. Its entry is removed when this run ends; run again and '{step}' executes.");
    }

    // Checks an entry with the leases it takes (its own, then each entry below a layered one): kept until the run
    // ends when the check finds nothing wrong, given back when it says why not or throws.
    private string? Hold(CacheLease lease, Func<List<CacheLease>, string?> check)
    {
        var leases = new List<CacheLease> { lease };
        string? stale;
        try
        {
            stale = check(leases);
        }
        catch
        {
            leases.ForEach(l => l.Dispose());
            throw;
        }

        if (stale is null)
        {
            leases.ForEach(_leases.Add);
        }
        else
        {
            leases.ForEach(l => l.Dispose());
        }

        return stale;
    }

    /// <summary>
    /// Whether the step's entry would do, as far as this machine's disk can tell without taking it: there, from
    /// <paramref name="backend"/>, whole; the engine is not asked about its image. A step for which this is false
    /// runs, so its parent's image must still be on the engine.
    /// </summary>
    public bool LooksUsable(string step, string backend, bool needsWorkspace, bool needsSnapshot)
    {
        if (Plan[step].Key is not { } key || _store.TryOpen(key) is not { } lease)
        {
            return false;
        }

        using (lease)
        {
            return LocalStaleness(lease, backend, needsWorkspace, needsSnapshot) is null;
        }
    }

    // Why the leased entry will not do, from what the store holds (the image on the engine and the layers below are checked apart); null when it will.
    private string? LocalStaleness(CacheLease lease, string backend, bool needsWorkspace, bool needsSnapshot)
    {
        var entry = lease.Entry;
        return !string.Equals(entry.Backend, backend, StringComparison.Ordinal) ? $"it was recorded by the {entry.Backend ?? "unknown"} backend and this run uses {backend}"
            : needsWorkspace && !entry.HasWorkspace ? "it was recorded without its output workspace (the step had no children then)"
            : entry.HasWorkspace && !IsComplete(lease) ? "its output workspace is missing"
            : needsSnapshot && entry.Image is null ? "it was recorded without an image (no child started from it then)"
            : needsWorkspace && !SourceManifest.LooksWhole(Path.Combine(lease.Directory, SourcesFile)) ? "its source manifest is damaged"
            : !needsWorkspace && entry.Base is { } below && !_store.Contains(below) ? $"the entry its workspace is layered on ({below[..16]}) is gone"
            : null;
    }

    // The workspace (and its manifest) is there; entries recorded without one have nothing to check.
    private static bool IsComplete(CacheLease lease) =>
        Directory.Exists(Path.Combine(lease.Directory, WorkspaceDir)) && File.Exists(Path.Combine(lease.Directory, SourcesFile));

    // The hit's workspace layers, topmost first: the entry's own, then each entry it is layered on,
    // opened (and so leased) in turn. Null when all are there; otherwise why not.
    private string? OpenLayers(Func<string> workspaceStrategy, List<CacheLease> leases, List<string> layers)
    {
        for (var current = leases[0]; ; current = leases[^1])
        {
            layers.Add(Path.Combine(current.Directory, WorkspaceDir));
            if (current.Entry.Base is not { } below)
            {
                return null;
            }

            var strategy = workspaceStrategy();
            if (!string.Equals(current.Entry.LayerStrategy, strategy, StringComparison.Ordinal))
            {
                return $"its workspace is a {current.Entry.LayerStrategy} layer and this run's workspace strategy is {strategy}";
            }

            if (leases.Count >= MaxLayers)
            {
                return $"its workspace is layered more than {MaxLayers} entries deep";
            }

            if (_store.TryOpen(below) is not { } lease)
            {
                return $"the entry its workspace is layered on ({below[..16]}) is gone";
            }

            leases.Add(lease);
            if (!lease.Entry.HasWorkspace || !IsComplete(lease))
            {
                return $"the entry its workspace is layered on ({below[..16]}) has no workspace";
            }
        }
    }
}

/// <summary>What a cache entry keeps of a step's output workspace.</summary>
/// <param name="Workspace">The workspace as the step left it.</param>
/// <param name="Manifest">The source the output was made from: the entry's source manifest (docs/workspaces.md).</param>
/// <param name="Persist">Puts the workspace into a new directory: its own layer when it stacks on a cached entry (saying which), else a clone.</param>
internal sealed record RecordedOutput(string Workspace, SourceManifest Manifest, Func<string, string, CancellationToken, Task<PersistedLayer?>> Persist);

/// <summary>A workspace persisted as an overlay upper layer over the cache entry <paramref name="Base"/>'s, in <paramref name="Strategy"/>'s format.</summary>
internal sealed record PersistedLayer(string Base, string Strategy);

/// <summary>A step's result found in the cache.</summary>
/// <param name="Key">The entry's key.</param>
/// <param name="Layers">
/// The cached output workspace, read-only for everyone: one directory, or (an entry layered on others)
/// overlay layers topmost first. Empty when no child was expected to run from it at lookup (see <see cref="StepCache.WithWorkspace"/>).
/// </param>
/// <param name="SourcesFile">The source manifest of the run that made it (docs/workspaces.md), read only if a child executes.</param>
/// <param name="Image">The committed image (Docker); children start from it.</param>
internal sealed record CacheHit(string Key, IReadOnlyList<string> Layers, string SourcesFile, string? Image);

/// <summary>A hit, or a miss with perhaps a note on why an entry was dropped.</summary>
internal sealed record CacheLookup(CacheHit? Hit, string? Dropped)
{
    public static CacheLookup Miss { get; } = new(null, null);
}
