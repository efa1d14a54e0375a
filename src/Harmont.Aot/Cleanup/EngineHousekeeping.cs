namespace Harmont.Aot.Cleanup;

/// <summary>What a run's cleanup of the Docker engine needs to know: who the run is, and which images the cache records.</summary>
/// <param name="RunLock">The run's <see cref="OwnerLock.Label"/>, stamped on everything it creates.</param>
/// <param name="CacheLabel">The cache directory's <see cref="OwnerLock.Label"/>: images are judged against this cache only.</param>
/// <param name="EntriesForImage">The keys of the cache entries that record an image id; empty for none.</param>
/// <param name="HasEntry">Whether the cache holds an entry under a key (a cache tag's).</param>
internal sealed record EngineHousekeeping(string RunLock, string CacheLabel, Func<string, IReadOnlyList<string>> EntriesForImage, Func<string, bool> HasEntry)
{
    /// <summary>
    /// Whether a run of this machine died and left its work dir (<see cref="RunDirectory.AnyStale"/>), so the
    /// engine may hold its objects. A run that died leaves its work dir until the run that reaps its objects
    /// removes it, so when there is none, asking the engine is skipped.
    /// </summary>
    public bool DeadRuns { get; init; } = true;
}
