using Harmont.Aot.Cleanup;
using Harmont.Aot.Containment;
using System.Text.Json;

namespace Harmont.Aot.Cache;

/// <summary>
/// The step cache on disk (DESIGN §7). An entry is staged in <c>staging/</c> and appears in
/// <c>entries/&lt;key&gt;</c> by one rename, so a reader never sees a partial entry and the first
/// writer wins. Readers hold a shared lock on entry.json while they use an entry; removal takes an
/// exclusive one, so an entry in use is never evicted from under a run. A staging directory's writer
/// holds <c>staging/&lt;name&gt;.lock</c> while it fills it, so only a dead writer's staging is swept.
/// </summary>
internal sealed class CacheStore
{
    private const string EntryFile = "entry.json";
    private const string UsedFile = ".used";
    private const string LockSuffix = ".lock";

    // A lock file with no directory yet is a writer between taking its lock and creating the directory.
    private static readonly TimeSpan OrphanLockAge = TimeSpan.FromMinutes(1);
    private readonly TimeProvider _clock;

    // The owner locks of the staging directories this process is filling, by path.
    private readonly Dictionary<string, FileStream> _staging = new(StringComparer.Ordinal);

    public CacheStore(string root, TimeProvider clock)
    {
        Root = root;
        _clock = clock;
    }

    public string Root { get; }

    private string EntriesDir => Path.Combine(Root, "entries");

    private string StagingDir => Path.Combine(Root, "staging");

    /// <summary>Opens a complete entry and marks it used; null when there is none (or it is unreadable or invalid, then it is dropped).</summary>
    public CacheLease? TryOpen(string key)
    {
        if (!CacheEntryRules.IsKey(key))
        {
            return null; // Not a key, so not a name in entries/: never a path.
        }

        var dir = Path.Combine(EntriesDir, key);
        FileStream stream;
        try
        {
            stream = new FileStream(Path.Combine(dir, EntryFile), FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (IOException)
        {
            return null; // Being removed right now: a miss, not an error.
        }

        var (entry, _) = CacheEntryRules.Read(stream);
        if (entry is null || !entry.IsReadable || entry.Key != key)
        {
            stream.Dispose();
            TryRemove(key);
            return null;
        }

        Touch(dir);
        return new CacheLease(entry, dir, stream);
    }

    /// <summary>Whether a published entry exists for <paramref name="key"/>, without opening or touching it.</summary>
    public bool Contains(string key) => CacheEntryRules.IsKey(key) && File.Exists(Path.Combine(EntriesDir, key, EntryFile));

    /// <summary>
    /// A published entry's workspace layers, topmost first, and its source manifest file, read without leasing
    /// (for <c>explain</c>, which changes nothing); null when the entry or a base below it is missing.
    /// </summary>
    public (IReadOnlyList<string> Layers, string SourcesFile)? ReadOutput(string key)
    {
        var layers = new List<string>();
        for (var current = key; layers.Count < 64;)
        {
            var dir = Path.Combine(EntriesDir, current);
            if (ReadStaged(dir) is not { HasWorkspace: true } entry || entry.Key != current)
            {
                return null;
            }

            layers.Add(Path.Combine(dir, "workspace"));
            if (entry.Base is not { } below)
            {
                return (layers, Path.Combine(EntriesDir, key, "sources"));
            }

            current = below;
        }

        return null;
    }

    /// <summary>
    /// A fresh staging directory on the cache's filesystem, owned by this process until it is published or
    /// abandoned; fill it, then <see cref="Publish"/> (or <see cref="Abandon"/>).
    /// </summary>
    public string BeginEntry()
    {
        Directory.CreateDirectory(StagingDir);
        var path = Path.Combine(StagingDir, Guid.NewGuid().ToString("N"));

        // The lock exists before the directory, so a sweeper never sees the directory unowned.
        var owner = OwnerLock.Acquire(path + LockSuffix);
        try
        {
            Directory.CreateDirectory(path);
        }
        catch
        {
            ReleaseOwner(path + LockSuffix, owner);
            throw;
        }

        lock (_staging)
        {
            _staging[path] = owner;
        }

        return path;
    }

    /// <summary>
    /// Writes entry.json into <paramref name="staged"/> and moves it into place. Returns false when
    /// another writer published the same key first; the staged copy is then discarded.
    /// </summary>
    public bool Publish(string staged, CacheEntry entry)
    {
        using var lease = PublishLeased(staged, entry);
        return lease is not null;
    }

    /// <summary>
    /// <see cref="Publish"/>, leasing the entry from before it appears: no remover can take it between the
    /// rename and its writer's use. Null when another writer published the same key first.
    /// </summary>
    public CacheLease? PublishLeased(string staged, CacheEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        entry = entry with { Size = SizeOf(staged) + entry.ImageSize };
        var file = Path.Combine(staged, EntryFile);
        using (var stream = new FileStream(file, FileMode.Create, FileAccess.Write))
        {
            JsonSerializer.Serialize(stream, entry, CacheJsonContext.Default.CacheEntry);
        }

        Touch(staged);
        Directory.CreateDirectory(EntriesDir);
        var target = Path.Combine(EntriesDir, entry.Key);

        // A lock on an open file stays with it through the rename.
        var lease = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            Directory.Move(staged, target);
        }
        catch (IOException) when (Path.Exists(target))
        {
            lease.Dispose();
            Abandon(staged);
            return null;
        }
        catch
        {
            lease.Dispose();
            throw;
        }

        EndStaging(staged);
        return new CacheLease(entry, target, lease);
    }

    /// <summary>Deletes a staging directory that will not be published, and gives up its ownership.</summary>
    public void Abandon(string staged)
    {
        try
        {
            HostileTree.Delete(staged);
        }
        finally
        {
            EndStaging(staged);
        }
    }

    /// <summary>Reads entry.json of a directory that is not (yet) in the store; null when it is missing, unreadable or invalid.</summary>
    public static CacheEntry? ReadStaged(string dir)
    {
        try
        {
            using var stream = File.OpenRead(Path.Combine(dir, EntryFile));
            return CacheEntryRules.Read(stream).Entry;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Every complete, valid entry with its last use, oldest use first; a directory whose entry.json does not name it is skipped.</summary>
    public IReadOnlyList<CacheListing> List()
    {
        if (!Directory.Exists(EntriesDir))
        {
            return [];
        }

        var listings = new List<CacheListing>();
        foreach (var dir in Directory.EnumerateDirectories(EntriesDir))
        {
            if (!CacheEntryRules.IsKey(Path.GetFileName(dir)) || new DirectoryInfo(dir).LinkTarget is not null)
            {
                continue; // Not an entry this store made.
            }

            try
            {
                using var stream = new FileStream(Path.Combine(dir, EntryFile), FileMode.Open, FileAccess.Read, FileShare.Read);
                if (CacheEntryRules.Read(stream).Entry is { } entry && entry.Key == Path.GetFileName(dir))
                {
                    listings.Add(new CacheListing(entry, LastUsed(dir), dir));
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // In use by a remover, or not ours: listing skips it.
            }
        }

        return [.. listings.OrderBy(l => l.LastUsed)];
    }

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
    /// Removes the staging directories whose writer is gone (its lock free, or none: a removal that was cut
    /// short), and lock files left without a directory; a live writer's stay. Returns how many went; one that
    /// cannot be removed is said in <paramref name="problems"/>. Safe beside other sweepers and writers.
    /// </summary>
    public int SweepStaging(ICollection<string>? problems = null)
    {
        var removed = 0;
        foreach (var dir in Listed(() => Directory.EnumerateDirectories(StagingDir)))
        {
            if (!TryTakeDead(dir + LockSuffix, out var owner))
            {
                continue;
            }

            using var held = owner;

            try
            {
                HostileTree.Delete(dir);
                File.Delete(dir + LockSuffix);
                removed++;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                problems?.Add($"staging {Path.GetFileName(dir)}: {ex.Message}");
            }
        }

        var cutoff = _clock.GetUtcNow().UtcDateTime - OrphanLockAge;
        foreach (var file in Listed(() => Directory.EnumerateFiles(StagingDir, "*" + LockSuffix)))
        {
            if (!Directory.Exists(file[..^LockSuffix.Length]) && File.GetLastWriteTimeUtc(file) < cutoff && TryTakeDead(file, out var owner) && owner is not null)
            {
                ReleaseOwner(file, owner);
            }
        }

        return removed;
    }

    /// <summary>What staging holds now: directories, their bytes, and how many of them belong to dead writers.</summary>
    public (int Directories, long Bytes, int Dead) StagingUsage()
    {
        var (count, bytes, dead) = (0, 0L, 0);
        foreach (var dir in Listed(() => Directory.EnumerateDirectories(StagingDir)))
        {
            try
            {
                bytes += SizeOf(dir);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue; // Gone since it was listed.
            }

            count++;
            dead += !File.Exists(dir + LockSuffix) || OwnerLock.IsDead(dir + LockSuffix) ? 1 : 0;
        }

        return (count, bytes, dead);
    }

    /// <summary>The key of the entry that records each image id, for telling a dead run's images that matter from its garbage.</summary>
    public IReadOnlyDictionary<string, string> ImageOwners()
    {
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var listing in List())
        {
            if (listing.Entry.Image is { } image)
            {
                owners.TryAdd(image, listing.Entry.Key);
            }
        }

        return owners;
    }

    internal static long SizeOf(string dir) => HostileTree.Size(dir);

    // A directory listing that tolerates the directory going, or never having been made.
    private static List<string> Listed(Func<IEnumerable<string>> list)
    {
        try
        {
            return [.. list()];
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    // Whether the owner of the lock at path is gone (or there never was one); its lock, if any, is then ours.
    private static bool TryTakeDead(string path, out FileStream? owner)
    {
        owner = null;
        try
        {
            owner = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return true;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static void ReleaseOwner(string path, FileStream owner)
    {
        using (owner)
        {
            File.Delete(path);
        }
    }

    private void EndStaging(string staged)
    {
        FileStream? owner;
        lock (_staging)
        {
            _staging.Remove(staged, out owner);
        }

        if (owner is not null)
        {
            ReleaseOwner(staged + LockSuffix, owner);
        }
    }

    private void Touch(string dir)
    {
        var used = Path.Combine(dir, UsedFile);
        try
        {
            File.SetLastWriteTimeUtc(used, _clock.GetUtcNow().UtcDateTime);
        }
        catch (FileNotFoundException)
        {
            File.WriteAllBytes(used, []);
            File.SetLastWriteTimeUtc(used, _clock.GetUtcNow().UtcDateTime);
        }
    }

    private static DateTimeOffset LastUsed(string dir)
    {
        var used = Path.Combine(dir, UsedFile);
        return File.Exists(used) ? File.GetLastWriteTimeUtc(used) : Directory.GetLastWriteTimeUtc(dir);
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

/// <summary>An entry opened for use; the shared lock it holds keeps eviction away until disposed.</summary>
internal sealed class CacheLease(CacheEntry entry, string directory, FileStream @lock) : IDisposable
{
    public CacheEntry Entry { get; } = entry;

    /// <summary>The entry's directory; its <c>workspace/</c> is the step's output workspace.</summary>
    public string Directory { get; } = directory;

    public void Dispose() => @lock.Dispose();
}

/// <summary>An entry as <c>cache ls</c> shows it.</summary>
internal sealed record CacheListing(CacheEntry Entry, DateTimeOffset LastUsed, string Directory);
