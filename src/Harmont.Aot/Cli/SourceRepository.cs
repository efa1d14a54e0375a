using Harmont.Aot.Ir;
using Harmont.Aot.Model;

namespace Harmont.Aot.Cli;

/// <summary>
/// The source tree a run snapshots and keys its cache on: <c>--repo DIR</c>, else the git work tree the
/// command was started in (its root, even from a subdirectory). Never a guess: outside both, it is an error.
/// </summary>
internal static class SourceRepository
{
    /// <summary>The full path of the source tree.</summary>
    /// <param name="repo"><c>--repo</c> as written (relative to the working directory), or null.</param>
    /// <param name="context">The working directory, and the repository a caller may have fixed already.</param>
    /// <exception cref="PipelineException">--repo is not a directory, or there is neither --repo nor a git work tree.</exception>
    public static string Resolve(string? repo, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (repo is not null)
        {
            string path;
            try
            {
                path = Path.GetFullPath(repo, context.WorkingDirectory);
            }
            catch (ArgumentException ex)
            {
                throw new PipelineException($"--repo '{IrField.Printable(repo)}' is not a directory path: {ex.Message}", ex);
            }

            return Directory.Exists(path)
                ? Path.TrimEndingDirectorySeparator(path)
                : throw new PipelineException($"--repo {path} is not a directory; pass the directory of the repository to build.");
        }

        return context.Repository ?? GitRoot(context.WorkingDirectory)
            ?? throw new PipelineException(
                $"{context.WorkingDirectory} is not inside a git repository; run from inside the repository to build, or pass --repo DIR.");
    }

    // The work tree's root: a directory holding .git (a directory, or a file in a worktree or submodule).
    private static string? GitRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            var git = Path.Combine(dir.FullName, ".git");
            if (Directory.Exists(git) || File.Exists(git))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
