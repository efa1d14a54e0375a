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

    public static RunDirectory Claim(string workRoot, string runId)
    {
        var path = System.IO.Path.Combine(workRoot, Prefix + runId);
        Directory.CreateDirectory(path);
        return new RunDirectory(path, OpenLock(path));
    }

    /// <summary>
    /// Removes the work directories of runs that are no longer alive, mounts included; returns what it
    /// removed. A directory without a lock file is only taken once it is a day old: a run that is
    /// starting creates its directory a moment before its lock.
    /// </summary>
    public static IReadOnlyList<string> CollectStale(string workRoot)
    {
        if (!Directory.Exists(workRoot))
        {
            return [];
        }

        var removed = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories(workRoot, Prefix + "*"))
        {
            if (!File.Exists(System.IO.Path.Combine(dir, LockName)) && Directory.GetLastWriteTimeUtc(dir) > DateTime.UtcNow.AddDays(-1))
            {
                continue;
            }

            FileStream? probe;
            try
            {
                probe = OpenLock(dir);
            }
            catch (IOException)
            {
                continue; // Held: a live run owns it.
            }
            catch (UnauthorizedAccessException)
            {
                continue; // Another user's run; not ours to judge.
            }

            using (probe)
            {
                RunWorkspaces.Delete(dir);
            }

            removed.Add(dir);
        }

        return removed;
    }

    public void Dispose() => _lock.Dispose();

    private static FileStream OpenLock(string dir) =>
        new(System.IO.Path.Combine(dir, LockName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
}
