using System.Collections.Concurrent;
using System.Text;
using Harmont.Aot.Runners;

namespace Harmont.Aot.Cache;

/// <summary>
/// One run's use of the store (DESIGN §5 runner contract): for each cached step, hit or
/// miss-and-record; for the rest, miss-without-record. A hit holds its entry's shared lock until the
/// run ends, so eviction by a concurrent run can never take an output a child is starting from.
/// </summary>
internal sealed class StepCache : IDisposable
{
    private const string WorkspaceDir = "workspace";
    private const string SourcesFile = "sources";
    private readonly CacheStore _store;
    private readonly TimeProvider _clock;
    private readonly ConcurrentBag<CacheLease> _leases = [];
    private readonly ConcurrentDictionary<string, string> _outcomes = new(StringComparer.Ordinal);

    public StepCache(CacheStore store, CachePlan plan, TimeProvider clock)
    {
        _store = store;
        Plan = plan;
        _clock = clock;
    }

    public CachePlan Plan { get; }

    /// <summary>How each step ended, as the run record keeps it.</summary>
    public IReadOnlyDictionary<string, string> Outcomes => _outcomes;

    /// <summary>
    /// Looks the step up. A hit needs a complete entry from the same backend and, for Docker, its
    /// image still on the engine; an entry that fails either is dropped (and said why) and the step runs.
    /// </summary>
    public async Task<CacheLookup> LookUpAsync(string step, IStepBackend backend, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if (Plan[step].Key is not { } key || _store.TryOpen(key) is not { } lease)
        {
            return CacheLookup.Miss;
        }

        var entry = lease.Entry;
        string? stale = null;
        try
        {
            if (!Directory.Exists(Path.Combine(lease.Directory, WorkspaceDir)) || !File.Exists(Path.Combine(lease.Directory, SourcesFile)))
            {
                stale = "it has no output workspace";
            }
            else if (!string.Equals(entry.Backend, backend.Name, StringComparison.Ordinal))
            {
                stale = $"it was recorded by the {entry.Backend ?? "unknown"} backend and this run uses {backend.Name}";
            }
            else if (entry.Image is { } image && !await backend.HasSnapshotAsync(image, cancellationToken))
            {
                stale = $"its image {image} is no longer on the engine";
            }
        }
        catch
        {
            lease.Dispose();
            throw;
        }

        if (stale is not null)
        {
            lease.Dispose();
            _store.TryRemove(key);
            return new CacheLookup(null, $"cache entry {key[..16]} dropped: {stale}; running the step");
        }

        _leases.Add(lease);
        return new CacheLookup(new CacheHit(key, Path.Combine(lease.Directory, WorkspaceDir), Path.Combine(lease.Directory, SourcesFile), entry.Image), null);
    }

    /// <summary>
    /// Stores a passed step's output: <paramref name="persist"/> copies the workspace into the staged
    /// entry (by clone where the filesystem can), the source manifest is written beside it, and the entry
    /// is published by one rename. False when another run published the same key first; its entry stays.
    /// </summary>
    public async Task<bool> RecordAsync(
        string step,
        string workspace,
        string? image,
        string backend,
        IReadOnlyList<string> sourceFiles,
        Func<string, string, CancellationToken, Task> persist,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sourceFiles);
        ArgumentNullException.ThrowIfNull(persist);
        var plan = Plan[step];
        var key = plan.Key ?? throw new InvalidOperationException($"step '{step}' is not cached.");
        var staged = _store.BeginEntry();
        try
        {
            await persist(workspace, Path.Combine(staged, WorkspaceDir), cancellationToken);
            await WriteSourcesAsync(Path.Combine(staged, SourcesFile), sourceFiles, cancellationToken);
            var entry = new CacheEntry
            {
                Key = key,
                Pipeline = Plan.Pipeline,
                Step = step,
                Components = plan.Components,
                Created = _clock.GetUtcNow(),
                Image = image,
                Backend = backend,
            };
            return _store.Publish(staged, entry);
        }
        catch
        {
            if (Directory.Exists(staged))
            {
                Directory.Delete(staged, recursive: true);
            }

            throw;
        }
    }

    /// <summary>Notes how a step ended, for the run record.</summary>
    public void SetOutcome(string step, string outcome) => _outcomes[step] = outcome;

    /// <summary>Releases every entry this run used.</summary>
    public void Dispose()
    {
        while (_leases.TryTake(out var lease))
        {
            lease.Dispose();
        }
    }

    // One path after another, each ended by NUL: a path may hold a newline, never a NUL.
    private static async Task WriteSourcesAsync(string path, IReadOnlyList<string> files, CancellationToken cancellationToken)
    {
        await using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false));
        foreach (var file in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await writer.WriteAsync(file);
            await writer.WriteAsync('\0');
        }
    }
}

/// <summary>A step's result found in the cache.</summary>
/// <param name="Key">The entry's key.</param>
/// <param name="Workspace">The cached output workspace; read-only for everyone.</param>
/// <param name="SourcesFile">The source manifest of the run that made it (DESIGN §4.2).</param>
/// <param name="Image">The committed image (Docker); children start from it.</param>
internal sealed record CacheHit(string Key, string Workspace, string SourcesFile, string? Image)
{
    private readonly Lazy<IReadOnlyList<string>> _sourceFiles = new(() =>
        File.ReadAllText(SourcesFile, Encoding.UTF8).Split('\0', StringSplitOptions.RemoveEmptyEntries));

    /// <summary>The source files when the entry was made; read once, and only if a child executes.</summary>
    public IReadOnlyList<string> SourceFiles => _sourceFiles.Value;
}

/// <summary>A hit, or a miss with perhaps a note on why an entry was dropped.</summary>
internal sealed record CacheLookup(CacheHit? Hit, string? Dropped)
{
    public static CacheLookup Miss { get; } = new(null, null);
}
