using System.Runtime.Versioning;
using Harmont.Aot.Containment;
using Harmont.Aot.Native.Linux;

namespace Harmont.Aot.Workspaces;

/// <summary>The Linux cloner: both trees are hostile, so every file is reached by handle beneath its root.</summary>
internal sealed partial class TreeCloner
{
    /// <summary>
    /// Clones <paramref name="relative"/> (a file or link) from <paramref name="from"/> onto the same path in
    /// <paramref name="to"/>, replacing a file or link there; the caller has made its directory.
    /// </summary>
    [SupportedOSPlatform("linux")]
    public void CloneFile(ContainedRoot from, ContainedRoot to, string relative)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        var error = from.TryStat(relative, out var status);
        if (error != Errno.None)
        {
            throw from.Fail("inspect", relative, error);
        }

        to.Delete(relative);
        CloneOneContained(from, to, relative, status);
    }

    [SupportedOSPlatform("linux")]
    private async Task CloneTreeContainedAsync(string source, string destination, CancellationToken cancellationToken)
    {
        using var from = ContainedRoot.Open(source);
        using var to = ContainedRoot.Create(destination);
        var entries = ContainedTree.Walk(from);
        await CloneContainedAsync(from, to, entries, cancellationToken);
        CopyMetadata(from, to, "");
    }

    [SupportedOSPlatform("linux")]
    private async Task CopyEntriesContainedAsync(string source, string destination, IReadOnlyList<string> relativePaths, CancellationToken cancellationToken)
    {
        using var from = ContainedRoot.Open(source);
        using var to = ContainedRoot.Create(destination);
        var entries = new List<ContainedEntry>(relativePaths.Count);
        var parents = new HashSet<string>(StringComparer.Ordinal);
        foreach (var relative in relativePaths)
        {
            var chain = new List<string>();
            for (var parent = RelativePath.ParentOf(relative); parent.Length > 0 && parents.Add(parent); parent = RelativePath.ParentOf(parent))
            {
                chain.Add(parent);
            }

            chain.Reverse();
            foreach (var parent in chain)
            {
                if (from.TryStat(parent, out var directory) == Errno.None && directory.IsDirectory)
                {
                    entries.Add(new ContainedEntry(parent, directory));
                }
            }

            // A listed path that is gone, or that now lies beyond a link, is not source: nothing to take.
            if (from.TryStat(relative, out var status) == Errno.None && (!status.IsDirectory || parents.Add(relative)))
            {
                entries.Add(new ContainedEntry(relative, status));
            }
        }

        await CloneContainedAsync(from, to, entries, cancellationToken);
    }

    [SupportedOSPlatform("linux")]
    private async Task CloneContainedAsync(ContainedRoot from, ContainedRoot to, List<ContainedEntry> entries, CancellationToken cancellationToken)
    {
        // Parents come before children in both walks and listings, so each directory's parent exists when it is made.
        var directories = entries.Where(e => e.Status.IsDirectory).Select(e => e.Relative).ToList();
        foreach (var relative in directories)
        {
            var (parent, name) = ContainedRoot.SplitParent(relative);
            using var handle = to.OpenDirectory(parent);
            var error = LinuxSyscalls.MakeDirectoryAt(handle, name, 0x1c0 /* 0700 until its own mode is set last */);
            if (error is not (Errno.None or Errno.EEXIST))
            {
                throw to.Fail("create directory", relative, error);
            }
        }

        var files = entries.Where(e => !e.Status.IsDirectory).ToList();
        await Parallel.ForEachAsync(
            files,
            new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Parallelism },
            (entry, _) =>
            {
                CloneOneContained(from, to, entry.Relative, entry.Status);
                return ValueTask.CompletedTask;
            });

        // Modes and times last, deepest first: a read-only directory must still receive its files,
        // and adding a file would bump the directory's mtime again.
        for (var i = directories.Count - 1; i >= 0; i--)
        {
            CopyMetadata(from, to, directories[i]);
        }
    }

    [SupportedOSPlatform("linux")]
    private void CloneOneContained(ContainedRoot from, ContainedRoot to, string relative, FileStatus status)
    {
        if (status.IsSymlink)
        {
            var target = from.ReadLink(relative);
            var (parent, name) = ContainedRoot.SplitParent(relative);
            using var directory = to.OpenDirectory(parent);
            var terminated = new byte[target.Length + 1];
            target.CopyTo(terminated, 0);
            var linked = LinuxSyscalls.SymlinkAt(terminated, directory, name);
            if (linked != Errno.None)
            {
                throw to.Fail("create link", relative, linked);
            }

            LinuxSyscalls.SetTimesAt(directory, name, status.Access, status.Modification);
            return;
        }

        if (!status.IsRegular)
        {
            Counters.Skipped();
            return;
        }

        using var input = from.TryOpen(relative, LinuxSyscalls.ReadOnlyFlag, 0, out var error);
        if (error != Errno.None)
        {
            throw from.Fail("open", relative, error);
        }

        // The handle's own status: the file may have changed since it was listed.
        if (LinuxSyscalls.StatHandle(input, out var current) == Errno.None)
        {
            status = current;
        }

        using var output = to.TryOpen(relative, LinuxSyscalls.CreateNewFlags, status.Mode, out error);
        if (error != Errno.None)
        {
            throw to.Fail("create", relative, error);
        }

        string? fallback = null;
        if (_reflink)
        {
            error = LinuxSyscalls.CloneFile(output, input);
            if (error == Errno.None)
            {
                Counters.Reflinked();
            }
            else if (error is Errno.EXDEV or Errno.EOPNOTSUPP or Errno.EINVAL or Errno.ENOTTY or Errno.ENOSYS)
            {
                fallback = $"FICLONE: {error.Describe()}";
            }
            else
            {
                throw to.Fail("reflink", relative, error);
            }
        }

        if (!_reflink || fallback is not null)
        {
            CopyData(input, output, status.Size, $"{from.Path}/{relative}");
            Counters.Copied(fallback);
        }

        LinuxSyscalls.ChangeMode(output, status.Mode);
        LinuxSyscalls.SetTimes(output, status.Access, status.Modification);
    }

    [SupportedOSPlatform("linux")]
    private static void CopyMetadata(ContainedRoot from, ContainedRoot to, string relative)
    {
        using var source = relative.Length == 0 ? from.OpenDirectory("") : from.TryOpenDirectory(relative);
        using var destination = relative.Length == 0 ? to.OpenDirectory("") : to.TryOpenDirectory(relative);
        if (source is null || destination is null || LinuxSyscalls.StatHandle(source, out var status) != Errno.None)
        {
            return;
        }

        LinuxSyscalls.ChangeMode(destination, status.Mode);
        LinuxSyscalls.SetTimes(destination, status.Access, status.Modification);
    }
}
