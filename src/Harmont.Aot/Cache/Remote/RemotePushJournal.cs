namespace Harmont.Aot.Cache.Remote;

/// <summary>
/// The entries of one cache dir still owed to one registry: a file per key under
/// <c>remote/&lt;registry id&gt;/pending/</c>, written before a push starts and removed once the registry holds the
/// whole entry. A run killed mid-push, a registry that failed or a push handed over at the end of a run leaves its
/// file, and a later run (or <c>cache push</c>) finishes the push. Whoever pushes holds the file's lock, so two live
/// processes never push one entry at once and a dead one's claim is free.
/// </summary>
internal sealed class RemotePushJournal
{
    private readonly string _pending;

    public RemotePushJournal(string cacheRoot, RemoteCacheSetting remote)
    {
        ArgumentNullException.ThrowIfNull(remote);

        // One journal per registry and repository: an entry owed to one remote says nothing about another.
        var id = Keys.CacheKey.Sha256Hex($"{remote.Host}/{remote.Repository}")[..16];
        _pending = Path.Combine(cacheRoot, "remote", id, "pending");
    }

    /// <summary>Records that <paramref name="key"/> is owed; durable before the push begins.</summary>
    public void Add(string key)
    {
        CheckKey(key);
        Directory.CreateDirectory(_pending);
        using var _ = new FileStream(Path.Combine(_pending, key), FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite);
    }

    /// <summary>The keys still owed, oldest first (as far as the file times tell).</summary>
    public IReadOnlyList<string> Pending()
    {
        try
        {
            return [.. new DirectoryInfo(_pending).EnumerateFiles()
                .Where(f => CacheEntryRules.IsKey(f.Name))
                .OrderBy(f => f.LastWriteTimeUtc)
                .Select(f => f.Name)];
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    /// <summary>
    /// Claims the push of <paramref name="key"/> for this process: null when no push is owed for it, or another
    /// live process holds it (it is pushing it now).
    /// </summary>
    public Claim? TryClaim(string key)
    {
        CheckKey(key);
        var path = Path.Combine(_pending, key);
        try
        {
            // FileShare.None is an exclusive flock(2), taken without waiting: a held one is another process's push.
            return new Claim(path, new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static void CheckKey(string key)
    {
        if (!CacheEntryRules.IsKey(key))
        {
            throw new ArgumentException($"'{key}' is not a cache key", nameof(key));
        }
    }

    /// <summary>A held claim on one owed push; <see cref="Done"/> settles it, disposing without it leaves it owed.</summary>
    public sealed class Claim(string path, FileStream held) : IDisposable
    {
        /// <summary>The registry holds the whole entry now (or it is no longer this cache's to push): nothing is owed.</summary>
        public void Done()
        {
            // Unlinked while still locked: a process that opened it meanwhile locks a name nobody will see again.
            File.Delete(path);
            held.Dispose();
        }

        public void Dispose() => held.Dispose();
    }
}
