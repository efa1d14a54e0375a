using Harmont.Aot.Containment;

namespace Harmont.Aot.Cache;

/// <summary>Removal: eviction, pruning and the entries a run is using, which stay.</summary>
internal sealed partial class CacheStore
{
    /// <summary>
    /// Removes least-recently-used entries until the store fits in <paramref name="maxBytes"/>; entries in
    /// use stay. An entry whose workspace is layered on an evicted one goes with it: it could never hit again.
    /// </summary>
    /// <param name="maxBytes">The bound.</param>
    /// <param name="kept">Receives the entries due that a run is using, which stay.</param>
    public IReadOnlyList<CacheListing> EvictToFit(long maxBytes, ICollection<CacheListing>? kept = null)
    {
        var listings = List();
        var total = listings.Sum(l => l.Entry.Size);
        var removal = new Removal(this, listings, kept);
        foreach (var listing in listings)
        {
            if (total - removal.Bytes <= maxBytes)
            {
                break;
            }

            removal.Remove(listing);
        }

        return removal.Removed;
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
