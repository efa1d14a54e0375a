using Harmont.Aot.Native.Linux;

namespace Harmont.Aot.Workspaces;

/// <summary>
/// DESIGN §4.2 as one operation on a workspace that holds a cached step's output: the current source
/// base is laid over it. Source files overwrite; files that were source when the entry was recorded
/// and are gone from the source now are removed; everything else the cached step produced stays.
/// </summary>
internal static class SourceOverlay
{
    /// <summary>Applies <paramref name="sourceBase"/> (listing <paramref name="currentSourceFiles"/>) over <paramref name="workspace"/>.</summary>
    /// <param name="strategy">Clones each file.</param>
    /// <param name="sourceBase">Where the source files are read from.</param>
    /// <param name="currentSourceFiles">The source now.</param>
    /// <param name="recordedSourceFiles">The source when the cached output was made.</param>
    /// <param name="workspace">The cached output's copy or overlay to apply the source over.</param>
    /// <param name="unchanged">Files the workspace already holds as they are in the source (see <see cref="SameFile"/>); they are left alone.</param>
    /// <param name="cancellationToken">Stops the copying.</param>
    public static async Task ApplyAsync(
        IWorkspaceStrategy strategy,
        string sourceBase,
        IReadOnlyList<string> currentSourceFiles,
        IReadOnlyCollection<string> recordedSourceFiles,
        string workspace,
        Func<string, bool> unchanged,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(unchanged);
        ArgumentNullException.ThrowIfNull(strategy);
        ArgumentNullException.ThrowIfNull(currentSourceFiles);
        ArgumentNullException.ThrowIfNull(recordedSourceFiles);
        var current = new HashSet<string>(currentSourceFiles, StringComparer.Ordinal);

        foreach (var gone in recordedSourceFiles.Where(p => !current.Contains(p)))
        {
            var path = Resolve(workspace, gone);
            if (IsLink(path) || File.Exists(path))
            {
                File.Delete(path);
            }
            else if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }

            PruneEmptyParents(workspace, sourceBase, gone);
        }

        // Structure first (a source directory where the output has a file, or the reverse), then the
        // files in parallel: each is a reflink where the filesystem can, else a copy.
        var files = new List<string>(currentSourceFiles.Count);
        var parents = new HashSet<string>(StringComparer.Ordinal);
        foreach (var relative in currentSourceFiles)
        {
            if (unchanged(relative))
            {
                continue;
            }

            var from = Resolve(sourceBase, relative);
            if (Directory.Exists(from) && !IsLink(from))
            {
                EnsureDirectory(workspace, relative, parents);
                continue;
            }

            if (Path.GetDirectoryName(relative) is { Length: > 0 } parent)
            {
                EnsureDirectory(workspace, parent, parents);
            }

            var to = Resolve(workspace, relative);
            if (Directory.Exists(to) && !IsLink(to))
            {
                Directory.Delete(to, recursive: true);
            }

            files.Add(relative);
        }

        await Parallel.ForEachAsync(
            files,
            new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount * 2 },
            (relative, _) =>
            {
                strategy.CloneFile(Resolve(sourceBase, relative), Resolve(workspace, relative));
                return ValueTask.CompletedTask;
            });
    }

    /// <summary>
    /// Whether <paramref name="workspaceFile"/> already is <paramref name="sourceFile"/>: both regular files
    /// (not links) of one size, mode and mtime to the nanosecond. Clones and copies keep mtimes, and a step
    /// that rewrites a file moves its mtime, so equal stamps mean the copy is still the source's.
    /// </summary>
    public static bool SameFile(string sourceFile, string workspaceFile)
    {
        if (OperatingSystem.IsLinux())
        {
            return LinuxSyscalls.Stat(sourceFile, out var source) == Errno.None && source.IsRegular
                && LinuxSyscalls.Stat(workspaceFile, out var copy) == Errno.None && copy.IsRegular
                && source.Size == copy.Size && source.Modification == copy.Modification && source.Mode == copy.Mode;
        }

        var (from, to) = (new FileInfo(sourceFile), new FileInfo(workspaceFile));
        return from.Exists && to.Exists && from.LinkTarget is null && to.LinkTarget is null
            && from.Length == to.Length && from.LastWriteTimeUtc == to.LastWriteTimeUtc;
    }

    // Recorded paths come from a cache entry, which may have been imported: none may leave the workspace.
    private static string Resolve(string root, string relative)
    {
        if (Path.IsPathRooted(relative) || relative.Split('/').Any(part => part is ".." or "." or ""))
        {
            throw new InvalidDataException($"source path '{relative}' is not a plain relative path.");
        }

        return Path.Combine(root, relative);
    }

    private static void EnsureDirectory(string workspace, string relative, HashSet<string> done)
    {
        if (done.Contains(relative))
        {
            return;
        }

        var path = workspace;
        foreach (var part in relative.Split('/'))
        {
            path = Path.Combine(path, part);
            if (IsLink(path) || File.Exists(path))
            {
                File.Delete(path); // A file (or link) the output has where the source now has a directory.
            }
        }

        Directory.CreateDirectory(Resolve(workspace, relative));
        done.Add(relative);
    }

    // A directory left empty by removed source files goes too, unless the source still has it.
    private static void PruneEmptyParents(string workspace, string sourceBase, string relative)
    {
        for (var parent = Path.GetDirectoryName(relative); !string.IsNullOrEmpty(parent); parent = Path.GetDirectoryName(parent))
        {
            var path = Path.Combine(workspace, parent);
            if (Directory.Exists(Path.Combine(sourceBase, parent)) || !Directory.Exists(path) || IsLink(path) || Directory.EnumerateFileSystemEntries(path).Any())
            {
                return;
            }

            Directory.Delete(path);
        }
    }

    private static bool IsLink(string path) => new FileInfo(path).LinkTarget is not null;
}
