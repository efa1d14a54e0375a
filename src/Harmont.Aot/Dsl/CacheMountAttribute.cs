namespace Harmont.Aot;

/// <summary>
/// A directory that persists across runs and cache keys, mounted into the step at <paramref name="path"/>
/// (BuildKit's <c>RUN --mount=type=cache</c>): a compiler or package cache such as ccache's or NuGet's.
/// Steps with the same <see cref="Id"/> share it, one at a time. Never part of a cache key or entry.
/// </summary>
/// <param name="path">Where the step sees it: absolute, or <c>~/…</c> (in a container, <c>/root/…</c>).</param>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
public sealed class CacheMountAttribute(string path) : Attribute
{
    /// <summary>Where the step sees the directory.</summary>
    public string Path { get; } = path;

    /// <summary>Which directory: steps naming the same id share it. Defaults to one made from the path.</summary>
    public string? Id { get; set; }
}
