namespace Harmont.Aot.Cleanup;

/// <summary>What a run's cleanup of the Docker engine needs to know: who the run is, and which images the cache records.</summary>
/// <param name="RunLock">The run's <see cref="OwnerLock.Label"/>, stamped on everything it creates.</param>
/// <param name="CacheLabel">The cache directory's <see cref="OwnerLock.Label"/>: images are judged against this cache only.</param>
/// <param name="EntriesForImage">The keys of the cache entries that record an image id; empty for none.</param>
/// <param name="HasEntry">Whether the cache holds an entry under a key (a cache tag's).</param>
internal sealed record EngineHousekeeping(string RunLock, string CacheLabel, Func<string, IReadOnlyList<string>> EntriesForImage, Func<string, bool> HasEntry);
