using Harmont.Aot.Keys;
using Harmont.Aot.Model;
using Harmont.Aot.Runners;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Cache;

/// <summary>The cache's part of a run (and of <c>explain</c>): planning keys from the real world, and eviction after.</summary>
internal static class CachePlanning
{
    private const string MemoFile = "hashes.memo";

    /// <summary>Where file hashes are memoised across runs.</summary>
    public static string MemoPath(string cacheRoot) => Path.Combine(cacheRoot, MemoFile);

    /// <summary>
    /// Resolves every step's key against the working tree at <paramref name="sourceRoot"/>. Files are
    /// listed and hashed only when some step has an onChange policy; hashes are memoised across runs
    /// in the cache directory.
    /// </summary>
    public static async Task<CachePlan> PlanAsync(
        PipelineDefinition pipeline, string sourceRoot, string cacheRoot, Func<string, string?> getEnv, TimeProvider clock, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pipeline);

        // git for the project identity, git for the listing and the memo's read all start at once.
        var projectTask = ProjectIdentity.ResolveAsync(pipeline.Project, sourceRoot, cancellationToken, cacheRoot);
        var needsSources = pipeline.Steps.Any(s => s.Cache.OfType<OnChangeCachePolicy>().Any());
        var listing = needsSources ? SourceTree.ListAsync(sourceRoot, cancellationToken) : null;
        var memoLoad = needsSources ? Task.Run(() => FileHashMemo.Load(Path.Combine(cacheRoot, MemoFile)), cancellationToken) : null;
        var project = await projectTask;
        FileHashMemo? memo = null;
        SourceHashes? hashes = null;
        IReadOnlyList<string>? listed = null;
        async Task<SourceHashes> Sources(CancellationToken ct)
        {
            if (hashes is null)
            {
                listed = await (listing ?? SourceTree.ListAsync(sourceRoot, ct));
                memo = await (memoLoad ?? Task.FromResult(FileHashMemo.Load(Path.Combine(cacheRoot, MemoFile))));
                hashes = new SourceHashes(sourceRoot, listed, memo);
            }

            return hashes;
        }

        CachePlan plan;
        try
        {
            plan = await CachePlanner.PlanAsync(pipeline, new PlanInputs(project, getEnv, clock, Sources), cancellationToken);
        }
        catch (IOException ex)
        {
            // A file listed a moment ago is gone or unreadable: nothing has run yet, so say so and stop.
            throw new PipelineException($"cannot compute the cache keys: {ex.Message}", ex);
        }

        try
        {
            memo?.Save();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The memo only saves time; the next run hashes again.
        }

        return plan with { SourceFiles = listed, Hashes = hashes };
    }

    /// <summary>
    /// Evicts least-recently-used entries and cache mounts down to <paramref name="maxBytes"/> (never one in
    /// use), with the entries' images, and says what went: eviction is never silent.
    /// </summary>
    public static async Task EvictAsync(CacheStore store, long maxBytes, IStepBackend? docker, TextWriter notices)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(notices);
        var kept = new List<CacheListing>();
        CacheEviction eviction;
        try
        {
            eviction = store.EvictToFit(maxBytes, kept);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await notices.WriteLineAsync($"harmont: cache eviction skipped: {ex.Message}");
            return;
        }

        var (evicted, mountsGone) = (eviction.Entries, eviction.Mounts);
        if (mountsGone.Count > 0)
        {
            await notices.WriteLineAsync(
                $"harmont: cache over its {CacheUnits.FormatSize(maxBytes)} bound: removed {mountsGone.Count} least-recently-used cache mount(s) " +
                $"({CacheUnits.FormatSize(mountsGone.Sum(m => m.Size))}): {string.Join(", ", mountsGone.Select(m => m.Id))}");
        }

        if (eviction.KeptMounts.Count > 0)
        {
            await notices.WriteLineAsync($"harmont: cache over its {CacheUnits.FormatSize(maxBytes)} bound: kept {eviction.KeptMounts.Count} cache mount(s) a step is using.");
        }

        if (kept.Count > 0)
        {
            await notices.WriteLineAsync($"harmont: cache over its {CacheUnits.FormatSize(maxBytes)} bound: kept {kept.Count} entr{(kept.Count == 1 ? "y" : "ies")} another run is using.");
        }

        if (evicted.Count == 0)
        {
            return;
        }

        await notices.WriteLineAsync(
            $"harmont: cache over its {CacheUnits.FormatSize(maxBytes)} bound: evicted {evicted.Count} least-recently-used entr{(evicted.Count == 1 ? "y" : "ies")} " +
            $"({CacheUnits.FormatSize(evicted.Sum(e => e.Entry.Size))}): {string.Join(", ", evicted.Select(e => $"{e.Entry.Pipeline}/{e.Entry.Step} {e.Entry.Key[..12]}"))}");
        await RemoveImagesAsync(evicted, docker, notices);
    }

    /// <summary>Removes the images of entries that left the store through <paramref name="docker"/>; an image a container still uses stays, said so.</summary>
    public static async Task RemoveImagesAsync(IEnumerable<CacheListing> removed, IStepBackend? docker, TextWriter notices)
    {
        ArgumentNullException.ThrowIfNull(removed);
        ArgumentNullException.ThrowIfNull(notices);
        if (docker is null)
        {
            return;
        }

        foreach (var listing in removed.Where(l => l.Entry.Image is not null))
        {
            try
            {
                await docker.DropSnapshotAsync(listing.Entry.Image!, listing.Entry.Key, CancellationToken.None);
            }
            catch (DockerEngineException ex)
            {
                // A container still uses it; its tag, now without an entry, is collected once it is free.
                await notices.WriteLineAsync($"harmont: kept image of evicted entry {listing.Entry.Key[..12]}: {ex.Message}");
            }
        }
    }
}
