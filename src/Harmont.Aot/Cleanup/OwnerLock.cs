namespace Harmont.Aot.Cleanup;

/// <summary>
/// The lock files that say a process still owns what it made: a run's work dir, a writer's staging dir. The
/// owner holds an exclusive lock for as long as it lives, so a lock that can be taken (or a file that is gone)
/// belongs to a process that is gone, whatever killed it. Docker objects carry their run's lock as a label
/// (<see cref="Label"/>), so any later run on this machine can tell a dead run's objects from a live one's.
/// </summary>
internal static class OwnerLock
{
    /// <summary>Takes the lock at <paramref name="path"/>, creating the file; throws <see cref="IOException"/> when another holds it.</summary>
    public static FileStream Acquire(string path) => new(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);

    /// <summary>
    /// Whether the owner of the lock at <paramref name="path"/> is gone: true when the file is gone or its lock
    /// can be taken (it is released again at once), false while a process holds it.
    /// </summary>
    public static bool IsDead(string path)
    {
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return true;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return false; // Another user's: not ours to judge.
        }
        catch (IOException)
        {
            return false; // Held.
        }
    }

    /// <summary>The label value naming the lock at <paramref name="path"/> on this machine.</summary>
    public static string Label(string path) => $"{Environment.MachineName}:{Path.GetFullPath(path)}";

    /// <summary>
    /// Whether the owner named by a <see cref="Label"/> value is gone: null when the label is another machine's
    /// (or not one of ours), whose locks this process cannot see.
    /// </summary>
    public static bool? IsDeadLabel(string? label)
    {
        var colon = label?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        if (colon <= 0 || !string.Equals(label![..colon], Environment.MachineName, StringComparison.Ordinal))
        {
            return null;
        }

        var path = label[(colon + 1)..];
        return Path.IsPathFullyQualified(path) ? IsDead(path) : null;
    }
}
