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
    /// <param name="step">The step.</param>
    /// <param name="backend">The backend the step would run on.</param>
    /// <param name="needsWorkspace">Whether a child will start from the step's output workspace.</param>
    /// <param name="needsSnapshot">Whether a child will start from the step's committed system state.</param>
    /// <param name="cancellationToken">Stops the image check.</param>
    public async Task<CacheLookup> LookUpAsync(
        string step, IStepBackend backend, bool needsWorkspace, bool needsSnapshot, CancellationToken cancellationToken)
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
            if (!string.Equals(entry.Backend, backend.Name, StringComparison.Ordinal))
            {
                stale = $"it was recorded by the {entry.Backend ?? "unknown"} backend and this run uses {backend.Name}";
            }
            else if (needsWorkspace && !entry.HasWorkspace)
            {
                stale = "it was recorded without its output workspace (the step had no children then)";
            }
            else if (entry.HasWorkspace && (!Directory.Exists(Path.Combine(lease.Directory, WorkspaceDir)) || !File.Exists(Path.Combine(lease.Directory, SourcesFile))))
            {
                stale = "its output workspace is missing";
            }
            else if (needsSnapshot && entry.Image is null)
            {
                stale = "it was recorded without an image (no child started from it then)";
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
    /// <param name="step">The step that passed.</param>
    /// <param name="image">Its committed image, if one was kept.</param>
    /// <param name="backend">The backend it ran on.</param>
    /// <param name="output">Its output workspace, the source listing and how to copy the workspace; null records none (a step with no children).</param>
    /// <param name="cancellationToken">Stops the copy.</param>
    public async Task<bool> RecordAsync(string step, string? image, string backend, RecordedOutput? output, CancellationToken cancellationToken)
    {
        var plan = Plan[step];
        var key = plan.Key ?? throw new InvalidOperationException($"step '{step}' is not cached.");
        var staged = _store.BeginEntry();
        try
        {
            if (output is not null)
            {
                await output.Persist(output.Workspace, Path.Combine(staged, WorkspaceDir), cancellationToken);
                await WriteSourcesAsync(Path.Combine(staged, SourcesFile), output.SourceFiles, cancellationToken);
            }

            var entry = new CacheEntry
            {
                Key = key,
                Pipeline = Plan.Pipeline,
                Step = step,
                Components = plan.Components,
                Created = _clock.GetUtcNow(),
                Image = image,
                Backend = backend,
                HasWorkspace = output is not null,
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

/// <summary>What a cache entry keeps of a step's output workspace.</summary>
/// <param name="Workspace">The workspace as the step left it.</param>
/// <param name="SourceFiles">The run's source listing: the entry's source manifest.</param>
/// <param name="Persist">Copies the workspace into a new directory (by clone where the filesystem can).</param>
internal sealed record RecordedOutput(string Workspace, IReadOnlyList<string> SourceFiles, Func<string, string, CancellationToken, Task> Persist);

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
