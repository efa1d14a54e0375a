using Harmont.Aot.Containment;

namespace Harmont.Aot.Cache;

/// <summary>Removal: eviction, pruning and the entries a run is using, which stay.</summary>
internal sealed partial class CacheStore
{
    /// <summary>
    /// Removes the least recently used of the entries and cache mounts together until both fit in
    /// <paramref name="maxBytes"/>: the one accounting of the bound, for eviction after a run and for
    /// <c>cache prune</c> alike. What a run or a step is using stays. An entry whose workspace is layered on an
    /// evicted one goes with it: it could never hit again.
    /// </summary>
    /// <param name="maxBytes">The bound.</param>
    /// <param name="kept">Receives the entries due that a run is using, which stay.</param>
    public CacheEviction EvictToFit(long maxBytes, ICollection<CacheListing>? kept = null)
    {
        var mountStore = new CacheMountStore(Root, _clock);
        var listings = List();
        var mounts = mountStore.List();
        var total = listings.Sum(l => l.Entry.Size) + mounts.Sum(m => m.Size);
        var removal = new Removal(this, listings, kept);
        var mountsGone = new List<CacheMountListing>();
        var mountsKept = new List<CacheMountListing>();

        // One least-recently-used order over both kinds; on a tie an entry goes first, as it is cheaper to make again.
        var order = listings.Select(l => (l.LastUsed, Kind: 0, Entry: (CacheListing?)l, Mount: (CacheMountListing?)null))
            .Concat(mounts.Select(m => (m.LastUsed, Kind: 1, Entry: (CacheListing?)null, Mount: (CacheMountListing?)m)))
            .OrderBy(c => c.LastUsed).ThenBy(c => c.Kind);
        foreach (var candidate in order)
        {
            if (total - removal.Bytes - mountsGone.Sum(m => m.Size) <= maxBytes)
            {
                break;
            }

            if (candidate.Entry is { } entry)
            {
                removal.Remove(entry);
            }
            else if (mountStore.TryRemove(candidate.Mount!.Id))
            {
                mountsGone.Add(candidate.Mount);
            }
            else
            {
                mountsKept.Add(candidate.Mount);
            }
        }

        return new CacheEviction(removal.Removed, mountsGone, mountsKept, mounts.Count);
    }

    /// <summary>Removes entries not used within <paramref name="olderThan"/>, and the entries layered on them.</summary>
    /// <param name="olderThan">How long unused.</param>
    /// <param name="kept">Receives the entries due that a run is using, which stay.</param>
    public IReadOnlyList<CacheListing> Prune(TimeSpan olderThan, ICollection<CacheListing>? kept = null)
    {
        var cutoff = _clock.GetUtcNow() - olderThan;
        var listings = List();
        var removal = new Removal(this, listings, kept);
        foreach (var listing in listings.Where(l => l.LastUsed < cutoff))
        {
            removal.Remove(listing);
        }

        return removal.Removed;
    }

    /// <summary>Removes an entry unless a run is using it; true when it is gone.</summary>
    public bool TryRemove(string key)
    {
        if (!CacheEntryRules.IsKey(key))
        {
            throw new ArgumentException($"'{key}' is not a cache key; nothing outside entries/ is ever removed.", nameof(key));
        }

        var dir = Path.Combine(EntriesDir, key);
        if (!Directory.Exists(dir))
        {
            return true;
        }

        var doomed = Path.Combine(StagingDir, $"removing-{Guid.NewGuid():N}");
        Directory.CreateDirectory(StagingDir);
        try
        {
            // Held across the rename, so no reader can open the entry in between.
            using (new FileStream(Path.Combine(dir, EntryFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
            {
                Directory.Move(dir, doomed);
            }
        }
        catch (DirectoryNotFoundException)
        {
            return true; // Another remover took it first.
        }
        catch (IOException)
        {
            return !Directory.Exists(dir);
        }

        try
        {
            HostileTree.Delete(doomed);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Out of the store already; what is left is staging that no one owns, for the next sweep.
        }

        return true;
    }

    /// <summary>
    /// The keys of the entries that record each image id, for telling a dead run's images that matter from its
    /// garbage. Several entries record one image when a step changed nothing and shares its parent's.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> ImageOwners()
    {
        var owners = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var listing in List())
        {
            if (listing.Entry.Image is { } image)
            {
                (owners.TryGetValue(image, out var keys) ? keys : owners[image] = []).Add(listing.Entry.Key);
            }
        }

        return owners.ToDictionary(o => o.Key, IReadOnlyList<string> (o) => o.Value, StringComparer.Ordinal);
    }
}

/// <summary>What one cut to the size bound removed, and the cache mounts it kept because a step was using them.</summary>
/// <param name="Entries">The entries removed, with the entries layered on them.</param>
/// <param name="Mounts">The cache mounts removed.</param>
/// <param name="KeptMounts">The cache mounts due that a step was using, which stay.</param>
/// <param name="MountsCounted">How many cache mounts counted toward the bound.</param>
internal sealed record CacheEviction(
    IReadOnlyList<CacheListing> Entries, IReadOnlyList<CacheMountListing> Mounts, IReadOnlyList<CacheMountListing> KeptMounts, int MountsCounted);

/// <summary>
/// One eviction or prune over a listing of the store: each entry removed takes, transitively, the entries
/// layered on it. Entries in use stay, and so do the entries layered on them.
/// </summary>
file sealed class Removal(CacheStore store, IReadOnlyList<CacheListing> listings, ICollection<CacheListing>? kept)
{
    private readonly ILookup<string?, CacheListing> _layeredOn = listings.ToLookup(l => l.Entry.Base, StringComparer.Ordinal);
    private readonly HashSet<string> _gone = new(StringComparer.Ordinal);

    public List<CacheListing> Removed { get; } = [];

    /// <summary>Bytes of every entry removed so far.</summary>
    public long Bytes { get; private set; }

    public void Remove(CacheListing listing)
    {
        if (_gone.Contains(listing.Entry.Key))
        {
            return;
        }

        if (!store.TryRemove(listing.Entry.Key))
        {
            kept?.Add(listing);
            return;
        }

        _gone.Add(listing.Entry.Key);
        Removed.Add(listing);
        Bytes += listing.Entry.Size;
        foreach (var above in _layeredOn[listing.Entry.Key])
        {
            Remove(above);
        }
    }
}
