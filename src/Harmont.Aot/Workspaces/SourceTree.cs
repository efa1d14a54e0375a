namespace Harmont.Aot.Workspaces;

/// <summary>Lists the files of the user's working tree that belong in the source base.</summary>
internal static class SourceTree
{
    /// <summary>
    /// Relative paths of the working tree's files: tracked, modified and untracked-but-not-ignored.
    /// In a git work tree git is the authority on .gitignore and .git/info/exclude; elsewhere
    /// everything but <c>.git</c> is taken.
    /// </summary>
    /// <remarks>
    /// Directories tagged with a <c>CACHEDIR.TAG</c> (our own cache and work dirs among them, when a
    /// user keeps them inside the tree) are left out: a run must not copy its own work dir into itself.
    /// </remarks>
    public static async Task<IReadOnlyList<string>> ListAsync(string root, CancellationToken cancellationToken)
    {
        var fromGit = await TryGitListAsync(root, cancellationToken);
        return fromGit is null ? WalkAll(root) : WithoutCacheDirs(root, fromGit);
    }

    /// <summary>The file that marks a cache directory (https://bford.info/cachedir/).</summary>
    public const string CacheTagName = "CACHEDIR.TAG";

    private const string CacheTagSignature = "Signature: 8a477f597d28d172789f06886806bc55";

    /// <summary>Marks <paramref name="directory"/> as a cache, so source snapshots and backup tools skip it.</summary>
    public static void TagAsCache(string directory)
    {
        Directory.CreateDirectory(directory);
        var tag = Path.Combine(directory, CacheTagName);
        if (!File.Exists(tag))
        {
            File.WriteAllText(tag, CacheTagSignature + "\n# This directory is Harmont.Aot's cache or work dir; it is never part of a source snapshot.\n");
        }
    }

    private static bool IsCacheDir(string directory)
    {
        var tag = Path.Combine(directory, CacheTagName);
        if (!File.Exists(tag))
        {
            return false;
        }

        using var reader = new StreamReader(tag);
        var head = new char[CacheTagSignature.Length];
        return reader.ReadBlock(head) == head.Length && new string(head) == CacheTagSignature;
    }

    private static List<string> WithoutCacheDirs(string root, IReadOnlyList<string> files)
    {
        var verdicts = new Dictionary<string, bool>(StringComparer.Ordinal);
        bool UnderCache(string relativeDir)
        {
            if (relativeDir.Length == 0)
            {
                return false;
            }

            if (!verdicts.TryGetValue(relativeDir, out var under))
            {
                under = IsCacheDir(Path.Combine(root, relativeDir)) || UnderCache(Path.GetDirectoryName(relativeDir) ?? "");
                verdicts[relativeDir] = under;
            }

            return under;
        }

        return [.. files.Where(f => !UnderCache(Path.GetDirectoryName(f) ?? ""))];
    }

    private static async Task<IReadOnlyList<string>?> TryGitListAsync(string root, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(Path.Combine(root, ".git")) && !File.Exists(Path.Combine(root, ".git")))
        {
            return null;
        }

        // --cached also lists tracked files deleted from the work tree; they are not source now. With -t
        // git tags each line, and lists a deleted file a second time tagged R, so one listing says both.
        var git = await Git.RunAsync(root, ["ls-files", "-z", "-t", "--cached", "--deleted", "--others", "--exclude-standard"], cancellationToken);
        if (git is null)
        {
            return null; // git is not installed: fall back to a walk.
        }

        if (git.ExitCode != 0)
        {
            throw new InvalidOperationException($"git ls-files failed in {root}: {git.Error.Trim()}. Fix the repository or run outside it.");
        }

        var lines = git.Output.Split('\0', StringSplitOptions.RemoveEmptyEntries);
        var gone = new HashSet<string>(lines.Where(l => l.StartsWith("R ", StringComparison.Ordinal)).Select(l => l[2..]), StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<string>(lines.Length);
        foreach (var line in lines)
        {
            var path = line.Length > 2 && line[1] == ' ' ? line[2..] : line;
            // S: skip-worktree (sparse checkout); such a file is usually not on disk, and only what is on disk is source.
            var absent = line.StartsWith("S ", StringComparison.Ordinal) && !Path.Exists(Path.Combine(root, path));
            if (!line.StartsWith("R ", StringComparison.Ordinal) && !absent && !gone.Contains(path) && seen.Add(path))
            {
                result.Add(path);
            }
        }

        return result;
    }

    private static List<string> WalkAll(string root)
    {
        var result = new List<string>();
        var pending = new Stack<string>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var dir = pending.Pop();
            foreach (var entry in new DirectoryInfo(dir).EnumerateFileSystemInfos())
            {
                if (entry.Name == ".git")
                {
                    continue;
                }

                if (entry is DirectoryInfo && entry.LinkTarget is null)
                {
                    if (!IsCacheDir(entry.FullName))
                    {
                        pending.Push(entry.FullName);
                    }
                }
                else
                {
                    result.Add(Path.GetRelativePath(root, entry.FullName));
                }
            }
        }

        return result;
    }
}
