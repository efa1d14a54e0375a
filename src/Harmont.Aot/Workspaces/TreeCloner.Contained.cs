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

    /// <summary>
    /// Clones the overlay workspace mounted at <paramref name="merged"/> into a new <paramref name="destination"/> as
    /// <see cref="CloneTreeAsync"/> does, except that each regular file is hard-linked from the layer it lives in
    /// (<paramref name="layers"/>, topmost first) when that layer's file is the very one the merged view shows: the
    /// first layer holding the path has a regular file there of the same mode, size and modification time. Any
    /// other file (on another filesystem, with too many links, or not found so) is copied. For layers nothing writes
    /// again once their step is done (a run's source snapshot, a finished upper layer, an entry's layer): sharing
    /// their inodes costs a link per file instead of a copy of its bytes. The mount must have no metacopy or
    /// redirected directories (<see cref="KernelOverlayStrategy"/> turns both off), so a layer's file is whole.
    /// </summary>
    [SupportedOSPlatform("linux")]
    public async Task LinkMergedAsync(string merged, IReadOnlyList<string> layers, string destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(layers);
        using var from = ContainedRoot.Open(merged);
        var roots = new List<ContainedRoot>(layers.Count);
        try
        {
            foreach (var layer in layers)
            {
                roots.Add(ContainedRoot.Open(layer));
            }

            using var to = ContainedRoot.Create(destination);
            var entries = ContainedTree.Walk(from);
            await CloneContainedAsync(from, to, entries, cancellationToken, (relative, shown) => TryLinkFromLayer(roots, to, relative, shown));
            CopyMetadata(from, to, "");
        }
        finally
        {
            foreach (var root in roots)
            {
                root.Dispose();
            }
        }
    }

    // The first layer that has the path decides: its file, if it is the one the merged view shows, is linked.
    [SupportedOSPlatform("linux")]
    private bool TryLinkFromLayer(List<ContainedRoot> layers, ContainedRoot to, string relative, FileStatus shown)
    {
        foreach (var layer in layers)
        {
            var error = layer.TryStat(relative, out var status);
            if (error is Errno.ENOENT or Errno.ENOTDIR)
            {
                continue;
            }

            if (error != Errno.None || !status.IsRegular || status.Mode != shown.Mode || status.Size != shown.Size || status.Modification != shown.Modification)
            {
                return false;
            }

            var (parent, name) = ContainedRoot.SplitParent(relative);
            using var source = layer.TryOpenDirectory(parent);
            using var target = to.OpenDirectory(parent);
            if (source is null || LinuxSyscalls.LinkAt(source, name, target, name) != Errno.None)
            {
                return false;
            }

            Counters.Linked();
            return true;
        }

        return false;
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
    private async Task CloneContainedAsync(
        ContainedRoot from, ContainedRoot to, List<ContainedEntry> entries, CancellationToken cancellationToken, Func<string, FileStatus, bool>? link = null)
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
                if (link is null || !entry.Status.IsRegular || !link(entry.Relative, entry.Status))
                {
                    CloneOneContained(from, to, entry.Relative, entry.Status);
                }

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
