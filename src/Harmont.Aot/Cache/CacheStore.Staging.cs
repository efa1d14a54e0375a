using Harmont.Aot.Cleanup;
using Harmont.Aot.Containment;

namespace Harmont.Aot.Cache;

/// <summary>
/// Staging: a writer (a run recording a step, an import) holds <c>staging-owners/&lt;name&gt;.lock</c> for as
/// long as it fills <c>staging/&lt;name&gt;</c>, so a sweep takes only what a dead writer left, however it died.
/// </summary>
internal sealed partial class CacheStore
{
    private const string LockSuffix = ".lock";

    // A lock file with no directory yet is a writer between taking its lock and creating the directory.
    private static readonly TimeSpan OrphanLockAge = TimeSpan.FromMinutes(1);

    // The owner locks of the staging directories this process is filling, by path.
    private readonly Dictionary<string, FileStream> _staging = new(StringComparer.Ordinal);

    // Beside staging, not in it: a writer that deletes its own directory leaves staging empty.
    private string OwnersDir => Path.Combine(Root, "staging-owners");

    /// <summary>
    /// A fresh staging directory on the cache's filesystem, owned by this process until it is published or
    /// abandoned; fill it, then <see cref="Publish"/> (or <see cref="Abandon"/>).
    /// </summary>
    public string BeginEntry()
    {
        Directory.CreateDirectory(StagingDir);
        Directory.CreateDirectory(OwnersDir);
        var path = Path.Combine(StagingDir, Guid.NewGuid().ToString("N"));

        // The lock exists before the directory, so a sweeper never sees the directory unowned.
        var owner = OwnerLock.Acquire(OwnerOf(path));
        try
        {
            Directory.CreateDirectory(path);
        }
        catch
        {
            ReleaseOwner(OwnerOf(path), owner);
            throw;
        }

        lock (_staging)
        {
            _staging[path] = owner;
        }

        return path;
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
            if (!TryTakeDead(OwnerOf(dir), out var owner))
            {
                continue;
            }

            using var held = owner;
            try
            {
                HostileTree.Delete(dir);
                DeleteOwner(OwnerOf(dir));
                removed++;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                problems?.Add($"staging {Path.GetFileName(dir)}: {ex.Message}");
            }
        }

        var cutoff = _clock.GetUtcNow().UtcDateTime - OrphanLockAge;
        foreach (var file in Listed(() => Directory.EnumerateFiles(OwnersDir, "*" + LockSuffix)))
        {
            var staged = Path.Combine(StagingDir, Path.GetFileName(file)[..^LockSuffix.Length]);
            if (!Directory.Exists(staged) && File.GetLastWriteTimeUtc(file) < cutoff && TryTakeDead(file, out var owner) && owner is not null)
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
            dead += OwnerLock.IsDead(OwnerOf(dir)) ? 1 : 0;
        }

        return (count, bytes, dead);
    }

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
            DeleteOwner(path);
        }
    }

    // Nothing to delete when there never was an owner, or its directory was never made.
    private static void DeleteOwner(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (DirectoryNotFoundException)
        {
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
            ReleaseOwner(OwnerOf(staged), owner);
        }
    }

    private string OwnerOf(string staged) => Path.Combine(OwnersDir, Path.GetFileName(staged) + LockSuffix);
}
