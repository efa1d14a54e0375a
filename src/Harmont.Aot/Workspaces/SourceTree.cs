using System.Diagnostics;

namespace Harmont.Aot.Workspaces;

/// <summary>Lists the files of the user's working tree that belong in the source base.</summary>
internal static class SourceTree
{
    /// <summary>
    /// Relative paths of the working tree's files: tracked, modified and untracked-but-not-ignored.
    /// In a git work tree git is the authority on .gitignore and .git/info/exclude; elsewhere
    /// everything but <c>.git</c> is taken.
    /// </summary>
    public static async Task<IReadOnlyList<string>> ListAsync(string root, CancellationToken cancellationToken)
    {
        var fromGit = await TryGitListAsync(root, cancellationToken);
        return fromGit ?? WalkAll(root);
    }

    private static async Task<IReadOnlyList<string>?> TryGitListAsync(string root, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(Path.Combine(root, ".git")) && !File.Exists(Path.Combine(root, ".git")))
        {
            return null;
        }

        var psi = new ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = root,
        };
        foreach (var arg in (string[])["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        {
            psi.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // git is not installed: fall back to a walk.
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"git ls-files failed in {root}: {(await stderr).Trim()}. Fix the repository or run outside it.");
            }

            // --cached also lists tracked files deleted from the work tree; they are not source now.
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var result = new List<string>();
            foreach (var path in (await stdout).Split('\0', StringSplitOptions.RemoveEmptyEntries))
            {
                var full = Path.Combine(root, path);
                if (seen.Add(path) && (File.Exists(full) || Directory.Exists(full) || IsSymlink(full)))
                {
                    result.Add(path);
                }
            }

            return result;
        }
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
                    pending.Push(entry.FullName);
                }
                else
                {
                    result.Add(Path.GetRelativePath(root, entry.FullName));
                }
            }
        }

        return result;
    }

    private static bool IsSymlink(string path) => new FileInfo(path).LinkTarget is not null;
}
