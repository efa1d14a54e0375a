using System.Text;

namespace Harmont.Aot.Runners.Docker;

/// <summary>Labels, repositories and name sanitising shared by everything that creates or finds Docker objects.</summary>
internal static class DockerNames
{
    /// <summary>On every container and image this runner creates, so cleanup finds its own and nothing else.</summary>
    public const string OwnerLabel = "dev.harmont.aot";

    /// <summary>The run that created the object.</summary>
    public const string RunLabel = "dev.harmont.aot.run";

    /// <summary>The step a container runs.</summary>
    public const string StepLabel = "dev.harmont.aot.step";

    /// <summary>
    /// The lock the creating run holds while it lives (<c>host:path</c>, see <c>OwnerLock.Label</c>): a run
    /// on the same machine whose lock is free is dead, and everything carrying it can go at once.
    /// </summary>
    public const string LockLabel = "dev.harmont.aot.lock";

    /// <summary>
    /// The cache directory (<c>host:path</c>) whose entries a committed image may belong to: a dead run's images are
    /// judged only against that cache, never against another user's or project's. Its names come from it too
    /// (<see cref="CacheRepository"/>), though an image fetched from the shared cache keeps the label of the cache that made it.
    /// </summary>
    public const string CacheLabel = "dev.harmont.aot.cache";

    /// <summary>Marks snapshots that only the current run needs.</summary>
    public const string EphemeralLabel = "dev.harmont.aot.ephemeral";

    /// <summary>Repository of step snapshots.</summary>
    public const string SnapshotRepository = "harmont-aot/snap";

    /// <summary>
    /// Where every cache dir named its entries' images before each named its own (<see cref="CacheRepository"/>):
    /// one name per key for the whole engine, so one cache dropping its entry took another's image.
    /// </summary>
    public const string LegacyCacheRepository = "harmont-aot/cache";

    private const int MaxTagLength = 128;

    /// <summary>
    /// Makes <paramref name="raw"/> fit Docker's tag grammar, <c>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}</c>.
    /// When anything had to change, a hash of the original keeps distinct inputs distinct.
    /// </summary>
    public static string ToTag(string raw, int maxLength = MaxTagLength)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var builder = new StringBuilder(raw.Length + 1);
        foreach (var c in raw)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' ? c : '_');
        }

        if (builder.Length == 0 || builder[0] is '.' or '-')
        {
            builder.Insert(0, '_');
        }

        var clean = builder.ToString();
        if (clean == raw && clean.Length <= maxLength)
        {
            return clean;
        }

        var hash = Keys.CacheKey.Sha256Hex(raw)[..12];
        var keep = Math.Min(clean.Length, maxLength - hash.Length - 1);
        return $"{clean[..keep]}-{hash}";
    }

    /// <summary>
    /// The repository in which the cache dir <paramref name="cache"/> (its <see cref="CacheLabel"/> value) names its
    /// entries' images, the tag being the key. Each cache dir names its own, so an image two caches record carries
    /// two names and one cache dropping its entry takes only its own name: the engine deletes an image with its last.
    /// </summary>
    /// <remarks>
    /// A hash of the label, not an id stored in the cache dir: the label already says which cache made an image and
    /// is judged by cleanup, so the name and the label agree, and a copied cache dir (another path) gets a name of its own.
    /// </remarks>
    public static string CacheRepository(string cache)
    {
        ArgumentException.ThrowIfNullOrEmpty(cache);
        return $"{LegacyCacheRepository}/{Keys.CacheKey.Sha256Hex(cache)[..16]}";
    }

    /// <summary>Whether <paramref name="reference"/> is the cache dir <paramref name="cache"/>'s name for an image, and for which tag.</summary>
    public static bool IsCacheReference(string reference, string cache, out string tag) => IsIn(reference, CacheRepository(cache), out tag);

    /// <summary>Whether <paramref name="reference"/> is a name from <see cref="LegacyCacheRepository"/>, and for which tag.</summary>
    public static bool IsLegacyCacheReference(string reference, out string tag) => IsIn(reference, LegacyCacheRepository, out tag);

    /// <summary>Whether <paramref name="reference"/> is any cache dir's name for an image, or a legacy one: this runner's, though maybe not this cache's.</summary>
    public static bool IsAnyCacheReference(string reference) =>
        reference?.StartsWith(LegacyCacheRepository + ":", StringComparison.Ordinal) == true
        || reference?.StartsWith(LegacyCacheRepository + "/", StringComparison.Ordinal) == true;

    /// <summary>Whether <paramref name="reference"/> is a run's own name for an image (<see cref="SnapshotRepository"/>), which goes with the run.</summary>
    public static bool IsRunReference(string reference) =>
        reference?.StartsWith(SnapshotRepository + ":", StringComparison.Ordinal) == true;

    /// <summary>The snapshot tag for a step of a run.</summary>
    public static string SnapshotTag(string runId, string stepKey) => ToTag($"{runId}-{stepKey}");

    /// <summary>The tag, in a <see cref="CacheRepository"/>, of a cached step's image: the key itself.</summary>
    public static string CacheTag(string key) => ToTag(key);

    /// <summary>The cache dir <paramref name="cache"/>'s name for the image of its entry <paramref name="key"/>.</summary>
    public static string CacheReference(string cache, string key) => $"{CacheRepository(cache)}:{CacheTag(key)}";

    /// <summary>The name every cache dir gave the image of an entry <paramref name="key"/> before each named its own.</summary>
    public static string LegacyCacheReference(string key) => $"{LegacyCacheRepository}:{CacheTag(key)}";

    /// <summary>A unique, readable container name for one step execution.</summary>
    public static string ContainerName(string runId, string stepKey) =>
        $"harmont-{ToTag($"{runId}-{stepKey}", 48)}-{Guid.NewGuid():N}";

    private static bool IsIn(string reference, string repository, out string tag)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var prefix = repository + ":";
        tag = reference.StartsWith(prefix, StringComparison.Ordinal) ? reference[prefix.Length..] : "";
        return tag.Length > 0;
    }
}
