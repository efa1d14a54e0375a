using System.Collections.Concurrent;
using Harmont.Aot.Native.Linux;

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

        // One git for both listings: the index's tracked files (tagged H, S when skip-worktree, M per unmerged
        // stage) and git's walk for untracked, unignored ones (tagged ?). Which tracked files are still on disk is
        // checked here, in parallel: git's own --deleted would lstat every tracked file on one thread.
        var git = await Git.RunAsync(root, ["ls-files", "-z", "-t", "--cached", "--others", "--exclude-standard"], cancellationToken);
        if (git is null)
        {
            return null; // git is not installed: fall back to a walk.
        }

        if (git.ExitCode != 0)
        {
            throw new InvalidOperationException($"git ls-files failed in {root}: {git.Error.Trim()}. Fix the repository or run outside it.");
        }

        var tracked = new List<string>();
        var others = new List<string>();
        foreach (var line in git.Output.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length < 3 || line[1] != ' ')
            {
                throw new InvalidOperationException($"git ls-files in {root} printed '{line}', which is not a tagged path; this git is not one the runner understands.");
            }

            (line[0] == '?' ? others : tracked).Add(line[2..]);
        }

        // An unmerged path is listed once per stage; a deleted or skip-worktree (sparse) one is not on disk,
        // and only what is on disk is source.
        var indexed = tracked.Distinct(StringComparer.Ordinal).ToArray();
        var present = new bool[indexed.Length];
        using var contained = OperatingSystem.IsLinux() ? Containment.ContainedRoot.Open(root) : null;
        if (indexed.Length > 0)
        {
            Parallel.ForEach(
                Partitioner.Create(0, indexed.Length, Math.Max(256, indexed.Length / (Environment.ProcessorCount * 4))),
                new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken },
                range =>
                {
                    for (var i = range.Item1; i < range.Item2; i++)
                    {
                        present[i] = ExistsNoFollow(contained, root, indexed[i]);
                    }
                });
        }

        var result = new List<string>(indexed.Length);
        result.AddRange(indexed.Where((_, i) => present[i]));
        result.AddRange(others);
        return result;
    }

    // The path itself (a symlink counts, wherever it points), reached without following a link on the way:
    // a tracked file under a directory that is now a link is not in the tree.
    private static bool ExistsNoFollow(Containment.ContainedRoot? contained, string root, string relative)
    {
        if (OperatingSystem.IsLinux())
        {
            // One statx relative to the root's handle: the user's own tree, so a link on the way is theirs; copying
            // the file later goes through the contained open, which refuses it.
            return Containment.RelativePath.IsPlain(relative)
                && LinuxSyscalls.StatAt(contained!.Handle, Native.PathBytes.EncodeTerminated(relative), out _) == Errno.None;
        }

        var path = Path.Combine(root, relative);
        return Path.Exists(path) || new FileInfo(path).LinkTarget is not null;
    }

    private static List<string> WalkAll(string root)
    {
        if (OperatingSystem.IsLinux())
        {
            // By handle, names as bytes: a directory whose name is not UTF-8 is still walked.
            using var contained = Containment.ContainedRoot.Open(root);
            return [.. Containment.ContainedTree.Walk(contained, d => d != ".git" && !d.EndsWith("/.git", StringComparison.Ordinal) && !IsCacheDir(Path.Combine(root, d)))
                .Where(e => !e.Status.IsDirectory && e.Relative != ".git" && !e.Relative.EndsWith("/.git", StringComparison.Ordinal))
                .Select(e => e.Relative)];
        }

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
