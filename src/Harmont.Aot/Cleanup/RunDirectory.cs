using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Cleanup;

/// <summary>
/// A run's private work directory, claimed by an exclusive lock on <c>.lock</c> for as long as the
/// run lives. A directory whose lock can be taken belongs to a run that is gone (crashed, killed),
/// which is how startup cleanup tells leftovers from a concurrent run's live workspaces.
/// </summary>
internal sealed class RunDirectory : IDisposable
{
    private const string Prefix = "run-";
    private const string LockName = ".lock";
    private readonly FileStream _lock;

    private RunDirectory(string path, FileStream @lock)
    {
        Path = path;
        _lock = @lock;
    }

    public string Path { get; }

    /// <summary>The lock this run holds; its <see cref="OwnerLock.Label"/> marks the run's Docker objects.</summary>
    public string LockPath => System.IO.Path.Combine(Path, LockName);

    public static RunDirectory Claim(string workRoot, string runId)
    {
        var path = System.IO.Path.Combine(workRoot, Prefix + runId);
        Directory.CreateDirectory(path);
        return new RunDirectory(path, OwnerLock.Acquire(System.IO.Path.Combine(path, LockName)));
    }

    /// <summary>Whether some run's work directory in <paramref name="workRoot"/> belongs to a run that is gone (see <see cref="CollectStale"/>).</summary>
    public static bool AnyStale(string workRoot) => Stale(workRoot).Any(probe =>
    {
        probe.Dispose();
        return true;
    });

    /// <summary>
    /// Removes the work directories of runs that are no longer alive, mounts included, whatever their files
    /// are named; returns what it removed. A directory without a lock file is only taken once it is a day old:
    /// a run that is starting creates its directory a moment before its lock. One that cannot be removed is
    /// said in <paramref name="problems"/> and left for a later run, never the end of this one.
    /// </summary>
    public static IReadOnlyList<string> CollectStale(string workRoot, ICollection<string>? problems = null)
    {
        var removed = new List<string>();
        foreach (var probe in Stale(workRoot))
        {
            var dir = System.IO.Path.GetDirectoryName(probe.Name)!;
            using (probe)
            {
                try
                {
                    RunWorkspaces.Delete(dir);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    problems?.Add($"{dir}: {ex.Message}");
                    continue;
                }
            }

            removed.Add(dir);
        }

        return removed;
    }

    // Dead runs' directories, each with its lock taken (the caller releases it): a directory without a lock file
    // only once it is a day old, since a run that is starting creates its directory a moment before its lock.
    private static IEnumerable<FileStream> Stale(string workRoot)
    {
        List<string> candidates;
        try
        {
            candidates = [.. Directory.EnumerateDirectories(workRoot, Prefix + "*")];
        }
        catch (DirectoryNotFoundException)
        {
            yield break;
        }

        foreach (var dir in candidates)
        {
            if (!File.Exists(System.IO.Path.Combine(dir, LockName)) && Directory.GetLastWriteTimeUtc(dir) > DateTime.UtcNow.AddDays(-1))
            {
                continue;
            }

            FileStream probe;
            try
            {
                probe = OwnerLock.Acquire(System.IO.Path.Combine(dir, LockName));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue; // Held by a live run, gone since it was listed, or another user's: not ours to judge.
            }

            yield return probe;
        }
    }

    public void Dispose() => _lock.Dispose();
}
