namespace Harmont.Aot.Workspaces;

/// <summary>The always-available fallback: a full copy of every file. Correct, and slow on big trees.</summary>
internal sealed class CopyStrategy : IWorkspaceStrategy
{
    public string Name => "copy";

    public async Task CloneTreeAsync(string source, string destination, CancellationToken cancellationToken)
    {
        var entries = new List<string>();
        var pending = new Stack<string>();
        pending.Push(source);
        while (pending.Count > 0)
        {
            foreach (var entry in new DirectoryInfo(pending.Pop()).EnumerateFileSystemInfos())
            {
                entries.Add(Path.GetRelativePath(source, entry.FullName));
                if (entry is DirectoryInfo && entry.LinkTarget is null)
                {
                    pending.Push(entry.FullName);
                }
            }
        }

        Directory.CreateDirectory(destination);
        CopyDirectoryMetadata(source, destination);
        await CopyEntriesAsync(source, destination, entries, cancellationToken);
    }

    public async Task CopyEntriesAsync(
        string source, string destination, IReadOnlyList<string> relativePaths, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(destination);

        // Directories first, parents before children, so parallel file copies find their folder.
        var files = new List<string>(relativePaths.Count);
        foreach (var relative in relativePaths.Order(StringComparer.Ordinal))
        {
            var from = Path.Combine(source, relative);
            var info = new DirectoryInfo(from);
            if (info.Exists && info.LinkTarget is null)
            {
                var to = Path.Combine(destination, relative);
                Directory.CreateDirectory(to);
                CopyDirectoryMetadata(from, to);
            }
            else
            {
                files.Add(relative);
            }
        }

        await Parallel.ForEachAsync(
            files,
            new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount * 2 },
            (relative, _) =>
            {
                CopyOne(Path.Combine(source, relative), Path.Combine(destination, relative));
                return ValueTask.CompletedTask;
            });
    }

    private static void CopyOne(string from, string to)
    {
        var info = new FileInfo(from);
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        if (info.LinkTarget is { } target)
        {
            File.CreateSymbolicLink(to, target);
            return;
        }

        // File.Copy keeps the mode bits on Unix; times are kept so make-style tools see no change.
        File.Copy(from, to, overwrite: true);
        File.SetLastWriteTimeUtc(to, info.LastWriteTimeUtc);
    }

    private static void CopyDirectoryMetadata(string from, string to)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(to, File.GetUnixFileMode(from));
        }
    }
}
