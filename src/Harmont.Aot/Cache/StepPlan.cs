namespace Harmont.Aot.Cache;

/// <summary>
/// What a run knows about one step before anything executes: the command it will run, whether it
/// is cached, and if so its key and the named components the key was made from (docs/cache-keys.md).
/// </summary>
internal sealed record StepPlan
{
    /// <summary>The step's key in the pipeline.</summary>
    public required string Step { get; init; }

    /// <summary>The command text, evaluated once, so the key and the run see the same text.</summary>
    public required string Command { get; init; }

    /// <summary>The cache key (64 hex digits); null when the step is not cached.</summary>
    public string? Key { get; init; }

    /// <summary>Why the step is not cached (no policy, an uncached parent); null when it is.</summary>
    public string? NotCachedReason { get; init; }

    /// <summary>
    /// Named inputs of the key, for <c>explain</c>: the preimage parts (<c>project</c>, <c>parent</c>,
    /// <c>definition</c>, <c>policy</c>…) and their finer parts (<c>command</c>, <c>env.NAME</c>,
    /// <c>ttl.bucket</c>, <c>onchange</c>…). Values are hashes or names, never secret values.
    /// </summary>
    public IReadOnlyDictionary<string, string> Components { get; init; } = new SortedDictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The onChange globs the key depends on; their matches' hashes are in the run's file table.</summary>
    public IReadOnlyList<string> Globs { get; init; } = [];

    public bool IsCached => Key is not null;
}
