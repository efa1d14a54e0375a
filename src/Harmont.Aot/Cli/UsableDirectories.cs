using Harmont.Aot.Model;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Cli;

/// <summary>
/// The cache and work directories a run needs, made and proven writable before anything uses them: a file in
/// their place, a read-only or full filesystem, or a directory this user may not write is one clear line.
/// </summary>
internal static class UsableDirectories
{
    /// <summary>The directories from the environment, each created (tagged as a cache dir) and written once.</summary>
    /// <exception cref="PipelineException">One of them cannot be used; the message names it, why, and what to set.</exception>
    public static HarmontDirectories Prepare(Func<string, string?> getEnv)
    {
        ArgumentNullException.ThrowIfNull(getEnv);
        var directories = HarmontDirectories.FromEnvironment(getEnv);
        Check(directories.Cache, "cache directory", "HARMONT_CACHE_DIR");
        Check(directories.Work, "work directory", string.IsNullOrWhiteSpace(getEnv("HARMONT_WORK_DIR")) ? "HARMONT_CACHE_DIR" : "HARMONT_WORK_DIR");
        return directories;
    }

    private static void Check(string path, string what, string variable)
    {
        try
        {
            SourceTree.TagAsCache(path);
            var probe = Path.Combine(path, $".probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, [0]);
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new PipelineException($"the {what} {path} cannot be used: {Reason(path, ex)}. Set {variable} to a directory this user can write, on a filesystem with free space.", ex);
        }
    }

    private static string Reason(string path, Exception ex)
    {
        for (var at = path; !string.IsNullOrEmpty(at); at = Path.GetDirectoryName(at))
        {
            if (File.Exists(at))
            {
                return at == path ? "it is a file, not a directory" : $"{at} is a file, not a directory";
            }
        }

        // The runtime's message names a path that may be a probe of ours; the errno's words are what matter.
        var message = ex.Message;
        var cut = message.IndexOf(" : '", StringComparison.Ordinal);
        return ex is UnauthorizedAccessException ? "permission denied" : (cut > 0 ? message[..cut] : message).TrimEnd('.');
    }
}
