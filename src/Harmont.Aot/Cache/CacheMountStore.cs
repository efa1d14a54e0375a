using Harmont.Aot.Containment;
using Harmont.Aot.Model;

namespace Harmont.Aot.Cache;

/// <summary>
/// The directories behind [CacheMount] (docs/cache-store.md#cache-mounts): <c>mounts/&lt;id&gt;/data</c> in the cache dir,
/// kept across runs and keys, never in an entry or a key. A step holds <c>mounts/&lt;id&gt;.lock</c> exclusively for
/// as long as it runs, so steps (of this run or another) that share an id take turns: a lock rather than a
/// copy per run, because these caches grow (a copy per run costs their whole size and loses one of two
/// runs' additions), and not every tool's cache is safe for two writers at once. Their content is written by
/// steps and so hostile: sizing and removal never follow a link in it.
/// </summary>
internal sealed class CacheMountStore(string cacheRoot, TimeProvider clock)
{
    private const string DataDir = "data";
    private const string UsedFile = ".used";
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    private string Root => Path.Combine(cacheRoot, "mounts");

    /// <summary>
    /// Takes the lock of each of <paramref name="mounts"/>' ids, in id order so two steps never wait on each other,
    /// creating their directories; the lease gives each mount's host directory and releases the locks when disposed.
    /// </summary>
    /// <param name="mounts">The step's mounts, already checked (<see cref="CacheMount.Problem"/>).</param>
    /// <param name="waiting">Told once per id another step holds, before waiting for it.</param>
    /// <param name="cancellationToken">Stops the wait.</param>
    public async Task<CacheMountLease> AcquireAsync(IReadOnlyList<CacheMount> mounts, Action<string> waiting, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mounts);
        ArgumentNullException.ThrowIfNull(waiting);
        var locks = new List<FileStream>();
        var directories = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            Directory.CreateDirectory(Root);
            foreach (var id in mounts.Select(m => m.EffectiveId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                locks.Add(await LockAsync(id, waiting, cancellationToken));
                directories[id] = Prepare(id);
            }
        }
        catch
        {
            locks.ForEach(l => l.Dispose());
            throw;
        }

        return new CacheMountLease([.. mounts.Select(m => new KeyValuePair<string, string>(directories[m.EffectiveId], m.Path))], locks);
    }

    /// <summary>Every cache mount with its size and last use, oldest use first.</summary>
    public IReadOnlyList<CacheMountListing> List()
    {
        if (!Directory.Exists(Root))
        {
            return [];
        }

        var listings = new List<CacheMountListing>();
        foreach (var dir in Directory.EnumerateDirectories(Root))
        {
            var id = Path.GetFileName(dir);
            if (new CacheMount("/" + id, id).Problem("") is not null || new DirectoryInfo(dir).LinkTarget is not null)
            {
                continue; // Not a directory this store made.
            }

            try
            {
                var used = Path.Combine(dir, UsedFile);
                listings.Add(new CacheMountListing(id, HostileTree.Size(dir), File.Exists(used) ? File.GetLastWriteTimeUtc(used) : Directory.GetLastWriteTimeUtc(dir)));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Being removed: listing skips it.
            }
        }

        return [.. listings.OrderBy(l => l.LastUsed)];
    }

    /// <summary>Removes the cache mount <paramref name="id"/> unless a step is using it; true when it is gone.</summary>
    public bool TryRemove(string id)
    {
        if (new CacheMount("/" + id, id).Problem("") is not null)
        {
            throw new ArgumentException($"'{id}' is not a cache mount id; nothing outside mounts/ is ever removed.", nameof(id));
        }

        FileStream held;
        try
        {
            held = new FileStream(LockPath(id), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return false;
        }

        using (held)
        {
            HostileTree.Delete(Path.Combine(Root, id));
        }

        return true;
    }

    private string LockPath(string id) => Path.Combine(Root, id + ".lock");

    private async Task<FileStream> LockAsync(string id, Action<string> waiting, CancellationToken cancellationToken)
    {
        for (var told = false; ; told = true)
        {
            try
            {
                return new FileStream(LockPath(id), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (!cancellationToken.IsCancellationRequested)
            {
                if (!told)
                {
                    waiting(id);
                }

                await Task.Delay(Poll, cancellationToken);
            }
        }
    }

    // The id's directory and its data, made here and never a link: a mount's source is always inside the cache dir.
    private string Prepare(string id)
    {
        var dir = Path.Combine(Root, id);
        var data = Path.Combine(dir, DataDir);
        Directory.CreateDirectory(data);
        if (new DirectoryInfo(dir).LinkTarget is not null || new DirectoryInfo(data).LinkTarget is not null)
        {
            throw new IOException($"cache mount '{id}' in {Root} is a symbolic link, which this runner never made; remove it ('cache clean').");
        }

        var used = Path.Combine(dir, UsedFile);
        File.WriteAllBytes(used, []);
        File.SetLastWriteTimeUtc(used, clock.GetUtcNow().UtcDateTime);
        return data;
    }
}

/// <summary>A step's hold on its cache mounts: each host directory and the path it is mounted at.</summary>
internal sealed class CacheMountLease(IReadOnlyList<KeyValuePair<string, string>> mounts, List<FileStream> locks) : IDisposable
{
    /// <summary>Host directory to path in the step, one per mount.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Mounts { get; } = mounts;

    public void Dispose() => locks.ForEach(l => l.Dispose());
}

/// <summary>A cache mount as <c>cache ls</c> shows it.</summary>
internal sealed record CacheMountListing(string Id, long Size, DateTimeOffset LastUsed);
