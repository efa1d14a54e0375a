using Harmont.Aot.Model;

namespace Harmont.Aot.Tests;

/// <summary>Hand-built definitions, for settings the test needs to vary freely (timeouts, shapes).</summary>
public static class Define
{
    public static StepDefinition Step(string key, string command, string? from = null, TimeSpan? timeout = null, params string[] after) =>
        Make(key, command, from, timeout, after, []);

    /// <summary>A step with cache policies; several compose.</summary>
    public static StepDefinition Cached(string key, string command, string? from, params CachePolicy[] cache) =>
        Make(key, command, from, null, [], cache);

    public static ForeverCachePolicy Forever(params string[] envKeys) => new(envKeys);

    public static OnChangeCachePolicy OnChange(params string[] globs) => new(globs);

    public static TtlCachePolicy Ttl(TimeSpan duration, params string[] envKeys) => new(duration, envKeys);

    public static PipelineDefinition Pipeline(string slug, Runner runner, params StepDefinition[] steps) => new()
    {
        Slug = slug,
        Runner = runner,
        DefaultImage = BusyboxImage.Image,
        Steps = steps,
    };

    private static StepDefinition Make(string key, string command, string? from, TimeSpan? timeout, string[] after, CachePolicy[] cache) => new()
    {
        Key = key,
        Label = key,
        Command = () => command,
        ConstantCommand = command,
        From = from,
        After = after,
        Timeout = timeout,
        Cache = cache,
    };
}
