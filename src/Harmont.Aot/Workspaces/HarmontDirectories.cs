namespace Harmont.Aot.Workspaces;

/// <summary>Where the cache and the per-run work directories live; both on one filesystem so clones stay cheap.</summary>
/// <param name="Cache">Root of the cache store.</param>
/// <param name="Work">Parent of the per-run work directories.</param>
internal sealed record HarmontDirectories(string Cache, string Work)
{
    /// <summary>
    /// <c>$HARMONT_CACHE_DIR</c>, else <c>$XDG_CACHE_HOME/harmont</c>, else <c>~/.cache/harmont</c>;
    /// the work dir is <c>$HARMONT_WORK_DIR</c>, else <c>work/</c> inside the cache.
    /// </summary>
    public static HarmontDirectories FromEnvironment(Func<string, string?> getEnv)
    {
        var cache = NonEmpty(getEnv("HARMONT_CACHE_DIR"));
        if (cache is null)
        {
            var xdg = NonEmpty(getEnv("XDG_CACHE_HOME"))
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            cache = Path.Combine(xdg, "harmont");
        }

        var work = NonEmpty(getEnv("HARMONT_WORK_DIR")) ?? Path.Combine(cache, "work");
        return new HarmontDirectories(Path.GetFullPath(cache), Path.GetFullPath(work));
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
