using Harmont.Aot.Containment;
using System.Text.Json;

namespace Harmont.Aot.Cache;

/// <summary>
/// The step cache on disk (docs/cache-store.md). An entry is staged in <c>staging/</c> and appears in
/// <c>entries/&lt;key&gt;</c> by one rename, so a reader never sees a partial entry and the first
/// writer wins. Readers hold a shared lock on entry.json while they use an entry; removal takes an
/// exclusive one, so an entry in use is never evicted from under a run.
/// </summary>
internal sealed partial class CacheStore
{
    private const string EntryFile = "entry.json";
    private const string UsedFile = ".used";
    private readonly TimeProvider _clock;

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

    internal static long SizeOf(string dir) => HostileTree.Size(dir);

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
