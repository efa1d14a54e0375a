namespace Harmont.Aot.Model;

/// <summary>
/// When a step's result may be reused. A step with no policy is never cached; a step with several
/// policies is a hit only if every one of them hits.
/// </summary>
public abstract record CachePolicy
{
    private protected CachePolicy()
    {
    }

    /// <summary>Short human form for <c>list</c> and <c>graph</c>: <c>forever(NODE_VERSION)</c>, <c>ttl(1d)</c>, <c>on-change(src/**)</c>.</summary>
    public abstract string Describe();

    private protected static bool SameItems(IReadOnlyList<string> left, IReadOnlyList<string> right) =>
        left.SequenceEqual(right, StringComparer.Ordinal);

    private protected static int ItemsHash(IReadOnlyList<string> items)
    {
        var hash = default(HashCode);
        foreach (var item in items)
        {
            hash.Add(item, StringComparer.Ordinal);
        }

        return hash.ToHashCode();
    }

    private protected static string Join(IReadOnlyList<string> items) => string.Join(", ", items);
}

/// <summary>Cached until the command, the parent or one of <see cref="EnvKeys"/>' values changes.</summary>
/// <param name="EnvKeys">Names of environment variables whose values (read at run time) join the key.</param>
public sealed record ForeverCachePolicy(IReadOnlyList<string> EnvKeys) : CachePolicy
{
    /// <summary>Equal when the lists hold the same items in the same order.</summary>
    public bool Equals(ForeverCachePolicy? other) => other is not null && SameItems(EnvKeys, other.EnvKeys);

    /// <inheritdoc/>
    public override int GetHashCode() => ItemsHash(EnvKeys);

    /// <inheritdoc/>
    public override string Describe() => $"forever({Join(EnvKeys)})";
}

/// <summary>Like <see cref="ForeverCachePolicy"/>, but the entry expires when the wall clock enters the next <see cref="Duration"/> bucket.</summary>
/// <param name="Duration">Length of one bucket; positive.</param>
/// <param name="EnvKeys">Names of environment variables whose values join the key.</param>
public sealed record TtlCachePolicy(TimeSpan Duration, IReadOnlyList<string> EnvKeys) : CachePolicy
{
    /// <summary>Equal when the durations are and the lists hold the same items in the same order.</summary>
    public bool Equals(TtlCachePolicy? other) => other is not null && Duration == other.Duration && SameItems(EnvKeys, other.EnvKeys);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Duration, ItemsHash(EnvKeys));

    /// <inheritdoc/>
    public override string Describe() =>
        EnvKeys.Count == 0 ? $"ttl({DurationNotation.Format(Duration)})" : $"ttl({DurationNotation.Format(Duration)}, {Join(EnvKeys)})";
}

/// <summary>Cached until a file matched by one of <see cref="Globs"/> changes (relative to the source root).</summary>
/// <param name="Globs">Patterns such as <c>src/**</c> or <c>*.csproj</c>; each must match at least one file at run time.</param>
public sealed record OnChangeCachePolicy(IReadOnlyList<string> Globs) : CachePolicy
{
    /// <summary>Equal when the lists hold the same items in the same order.</summary>
    public bool Equals(OnChangeCachePolicy? other) => other is not null && SameItems(Globs, other.Globs);

    /// <inheritdoc/>
    public override int GetHashCode() => ItemsHash(Globs);

    /// <inheritdoc/>
    public override string Describe() => $"on-change({Join(Globs)})";
}
