using System.Runtime.Versioning;
using Harmont.Aot.Containment;
using Harmont.Aot.Native.Linux;

namespace Harmont.Aot.Workspaces;

/// <summary>
/// The source-delta rule of docs/workspaces.md, as one operation on a workspace that holds a cached step's output: the source delta since
/// the entry was made is applied to it. Files new or changed since are written over the output, files gone
/// since are removed, and every source file unchanged since stays exactly as the cached steps left it.
/// The workspace is hostile (a step wrote it): nothing here follows a link in it.
/// </summary>
internal static class SourceOverlay
{
    /// <summary>Applies <paramref name="delta"/>, reading written files from <paramref name="snapshot"/>, to <paramref name="workspace"/>.</summary>
    /// <param name="cloner">Clones each file (reflink where the filesystem can).</param>
    /// <param name="snapshot">The run's source snapshot, holding at least every written file.</param>
    /// <param name="delta">What changed in the source since the cached output was made.</param>
    /// <param name="now">The source now: a directory it still has is never pruned.</param>
    /// <param name="workspace">The cached output's copy or overlay.</param>
    /// <param name="cancellationToken">Stops the copying.</param>
    [SupportedOSPlatform("linux")]
    public static async Task ApplyAsync(
        TreeCloner cloner, string snapshot, SourceDelta delta, SourceManifest now, string workspace, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cloner);
        ArgumentNullException.ThrowIfNull(delta);
        ArgumentNullException.ThrowIfNull(now);
        using var target = ContainedRoot.Open(workspace);
        var sourceDirectories = DirectoriesOf(now.Files.Keys);
        foreach (var gone in delta.Gone)
        {
            target.Delete(gone);
            PruneEmptyParents(target, gone, sourceDirectories);
        }

        if (delta.Written.Count == 0)
        {
            return;
        }

        // Structure first (a source directory where the output has a file or link, or the reverse), then
        // the files in parallel.
        var files = new List<string>(delta.Written.Count);
        foreach (var relative in delta.Written)
        {
            if (now.Files[relative].IsDirectory)
            {
                target.EnsureDirectory(relative);
                continue;
            }

            if (RelativePath.ParentOf(relative) is { Length: > 0 } parent)
            {
                target.EnsureDirectory(parent);
            }

            if (target.TryStat(relative, out var there) == Errno.None && there.IsDirectory)
            {
                target.Delete(relative);
            }

            files.Add(relative);
        }

        using var source = ContainedRoot.Open(snapshot);
        await Parallel.ForEachAsync(
            files,
            new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = cloner.Parallelism },
            (relative, _) =>
            {
                cloner.CloneFile(source, target, relative);
                return ValueTask.CompletedTask;
            });
    }

    /// <summary>
    /// Gives every file <paramref name="delta"/> wrote the current time as its mtime (never following a link): a file
    /// edited before the previous output was made still reads as newer than what a tool built from its old content.
    /// </summary>
    [SupportedOSPlatform("linux")]
    public static void TouchWritten(SourceDelta delta, SourceManifest now, string workspace)
    {
        ArgumentNullException.ThrowIfNull(delta);
        ArgumentNullException.ThrowIfNull(now);
        var time = DateTimeOffset.UtcNow;
        var stamp = new Timespec(time.ToUnixTimeSeconds(), time.Ticks % TimeSpan.TicksPerSecond * 100);
        using var target = ContainedRoot.Open(workspace);
        foreach (var relative in delta.Written.Where(f => !now.Files[f].IsDirectory))
        {
            var (parent, name) = ContainedRoot.SplitParent(relative);
            using var directory = target.TryOpenDirectory(parent);
            if (directory is not null && LinuxSyscalls.SetTimesAt(directory, name, stamp, stamp) is not (Errno.None or Errno.ENOENT) and var error)
            {
                throw target.Fail("set the time of", relative, error);
            }
        }
    }

    // Every directory that holds a source file now.
    private static HashSet<string> DirectoriesOf(IEnumerable<string> files)
    {
        var directories = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            for (var parent = RelativePath.ParentOf(file); parent.Length > 0 && directories.Add(parent); parent = RelativePath.ParentOf(parent))
            {
            }
        }

        return directories;
    }

    // A directory left empty by removed source files goes too, unless the source still has it.
    [SupportedOSPlatform("linux")]
    private static void PruneEmptyParents(ContainedRoot workspace, string relative, HashSet<string> sourceDirectories)
    {
        for (var parent = RelativePath.ParentOf(relative); parent.Length > 0 && !sourceDirectories.Contains(parent); parent = RelativePath.ParentOf(parent))
        {
            using (var directory = workspace.TryOpenDirectory(parent))
            {
                if (directory is null || ContainedTree.ReadNames(directory).Count > 0)
                {
                    return;
                }
            }

            workspace.Delete(parent);
        }
    }

    /// <summary>
    /// The same rule where there is no <c>openat2</c> (macOS): each component is checked with <c>lstat</c>
    /// before use, so a link a step made is removed or left, never followed; a link swapped in between the
    /// check and the use is the race this path cannot close, which Linux's handles do.
    /// </summary>
    public static async Task ApplyManagedAsync(string snapshot, SourceDelta delta, SourceManifest now, string workspace, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delta);
        ArgumentNullException.ThrowIfNull(now);
        foreach (var gone in delta.Gone)
        {
            if (ReachableWithoutLinks(workspace, RelativePath.ParentOf(gone)))
            {
                DeleteManaged(Path.Combine(workspace, gone));
            }
        }

        foreach (var relative in delta.Written)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var directory = now.Files[relative].IsDirectory ? relative : RelativePath.ParentOf(relative);
            var path = workspace;
            foreach (var part in directory.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                path = Path.Combine(path, part);
                if (IsLink(path) || File.Exists(path))
                {
                    File.Delete(path); // A file or link the output has where the source has a directory.
                }

                Directory.CreateDirectory(path);
            }

            if (now.Files[relative].IsDirectory)
            {
                continue;
            }

            var to = Path.Combine(workspace, relative);
            DeleteManaged(to);
            var from = Path.Combine(snapshot, relative);
            if (new FileInfo(from).LinkTarget is { } target)
            {
                File.CreateSymbolicLink(to, target);
            }
            else
            {
                await using var input = File.OpenRead(from);
                await using var output = new FileStream(to, FileMode.CreateNew, FileAccess.Write);
                await input.CopyToAsync(output, cancellationToken);
            }
        }
    }

    private static bool ReachableWithoutLinks(string root, string relative)
    {
        var path = root;
        foreach (var part in relative.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            path = Path.Combine(path, part);
            if (IsLink(path) || !Directory.Exists(path))
            {
                return false;
            }
        }

        return true;
    }

    private static void DeleteManaged(string path)
    {
        if (IsLink(path) || File.Exists(path))
        {
            File.Delete(path);
        }
        else if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true); // Removes links inside, never what they point at.
        }
    }

    private static bool IsLink(string path) => new FileInfo(path).LinkTarget is not null;
}
