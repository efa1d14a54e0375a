namespace Harmont.Aot;

/// <summary>
/// Caches the step until its command, its parent or the value of one of <paramref name="envKeys"/>
/// changes. Stack with other cache attributes: the step is a hit only if every policy hits.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
public sealed class CacheForeverAttribute(params string[] envKeys) : Attribute
{
    /// <summary>Environment variables whose values join the cache key.</summary>
    public IReadOnlyList<string> EnvKeys { get; } = envKeys;
}

/// <summary>
/// Caches the step for <paramref name="duration"/> (<c>"12h"</c>, <c>"1d"</c>, <c>"30m"</c>): entries
/// expire when the clock enters the next bucket of that length. Otherwise as <see cref="CacheForeverAttribute"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
public sealed class CacheTtlAttribute(string duration, params string[] envKeys) : Attribute
{
    /// <summary>Bucket length, e.g. <c>"1d"</c>; must be positive.</summary>
    public string Duration { get; } = duration;

    /// <summary>Environment variables whose values join the cache key.</summary>
    public IReadOnlyList<string> EnvKeys { get; } = envKeys;
}

/// <summary>
/// Caches the step until a file matched by one of <paramref name="globs"/> changes (<c>"src/**"</c>,
/// <c>"*.csproj"</c>, relative to the repository root). A glob that matches nothing fails the run.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
public sealed class CacheOnChangeAttribute(params string[] globs) : Attribute
{
    /// <summary>The file patterns.</summary>
    public IReadOnlyList<string> Globs { get; } = globs;
}
