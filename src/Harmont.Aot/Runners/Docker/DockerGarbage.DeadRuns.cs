using Docker.DotNet;
using Docker.DotNet.Models;
using Harmont.Aot.Cleanup;

namespace Harmont.Aot.Runners.Docker;

/// <summary>What a run on this machine left on the engine, reaped as soon as its lock says it is dead.</summary>
internal static partial class DockerGarbage
{
    /// <summary>
    /// Removes at once what runs of this machine that are gone (their owner lock free) left: their containers
    /// are killed and removed; their images go, unless cache entries record one, which is then given each entry's
    /// cache tag (a run killed between publishing an entry and tagging its image). A live run's objects, and another
    /// machine's, are never touched, nor another cache dir's names: an image one of them holds stays for it.
    /// </summary>
    /// <param name="engine">The engine.</param>
    /// <param name="cacheLabel">This cache's label: only images made for it are judged (containers are, whatever their cache).</param>
    /// <param name="entriesFor">The keys of the cache entries recording an image id (empty for none); asked only about dead runs' images.</param>
    /// <param name="scope">An extra <c>key=value</c> label every object must carry; tests use it to keep to their own.</param>
    /// <param name="cancellationToken">Stops the work between objects.</param>
    public static Task<GcReport> ReapDeadRunsAsync(
        DockerEngine engine, string cacheLabel, Func<string, IReadOnlyList<string>> entriesFor, string? scope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentException.ThrowIfNullOrEmpty(cacheLabel);
        ArgumentNullException.ThrowIfNull(entriesFor);
        return engine.GuardAsync(() => ReapDeadRunsCoreAsync(engine, cacheLabel, entriesFor, scope, cancellationToken));
    }

    /// <summary>
    /// Removes this cache's tags whose entry is gone (a removal the engine refused while a container used the
    /// image leaves one behind); the image goes with its last tag unless something still stacks on it. Names from
    /// before each cache named its own (<see cref="DockerNames.LegacyCacheRepository"/>) are taken over: an image this
    /// cache's entries record gets this cache's names, and a legacy name on an image made for this cache goes once this
    /// cache has no entry for its key, as it did then. Another cache dir's names are never touched.
    /// </summary>
    /// <param name="engine">The engine.</param>
    /// <param name="cacheLabel">This cache's label, from which its names come.</param>
    /// <param name="hasEntry">Whether this cache holds an entry under a key.</param>
    /// <param name="entriesFor">The keys of this cache's entries recording an image id (empty for none); asked only about images with a legacy name.</param>
    /// <param name="scope">An extra <c>key=value</c> label every image must carry; tests use it to keep to their own.</param>
    /// <param name="cancellationToken">Stops the work between images.</param>
    public static Task<IReadOnlyList<string>> CollectOrphanTagsAsync(
        DockerEngine engine, string cacheLabel, Func<string, bool> hasEntry, Func<string, IReadOnlyList<string>> entriesFor, string? scope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentException.ThrowIfNullOrEmpty(cacheLabel);
        ArgumentNullException.ThrowIfNull(hasEntry);
        ArgumentNullException.ThrowIfNull(entriesFor);
        return engine.GuardAsync(() => CollectOrphanTagsCoreAsync(engine, cacheLabel, hasEntry, entriesFor, scope, cancellationToken));
    }

    private static async Task<GcReport> ReapDeadRunsCoreAsync(
        DockerEngine client, string cacheLabel, Func<string, IReadOnlyList<string>> entriesFor, string? scope, CancellationToken cancellationToken)
    {
        List<string> filters = scope is null ? [$"{DockerNames.OwnerLabel}=1", DockerNames.LockLabel] : [$"{DockerNames.OwnerLabel}=1", DockerNames.LockLabel, scope];
        var judged = new Dictionary<string, bool>(StringComparer.Ordinal);
        bool IsDead(IDictionary<string, string>? labels)
        {
            var label = LockOf(labels);
            if (!judged.TryGetValue(label, out var dead))
            {
                judged[label] = dead = OwnerLock.IsDeadLabel(label) == true;
            }

            return dead;
        }

        var report = new Collected();
        foreach (var container in (await client.ListContainersAsync(filters, cancellationToken)).Where(c => IsDead(c.Labels)))
        {
            try
            {
                // Forced: a dead run's step may still be running, and nobody will ever read its output.
                await client.RemoveContainerAsync(container.ID, force: true, cancellationToken);
                report.Containers.Add(container.ID);
            }
            catch (DockerApiException ex)
            {
                report.Problems.Add($"container {Short(container.ID)}: {DockerEngine.MessageOf(ex)}");
            }
        }

        // Newest first: a child goes before its parent, which is then no longer in use. An image that only
        // carries its cache tag is a kept entry's, whatever run made it: nothing of that run is left on it.
        var images = await client.ListImagesAsync([.. filters, $"{DockerNames.CacheLabel}={cacheLabel}"], cancellationToken);
        foreach (var image in images.Where(i => HoldsRunLeftovers(i) && IsDead(i.Labels)).OrderByDescending(i => i.Created))
        {
            try
            {
                await ReapImageAsync(client, image, cacheLabel, entriesFor, report, cancellationToken);
            }
            catch (DockerApiException ex)
            {
                report.Problems.Add($"image {Short(image.ID)}: {DockerEngine.MessageOf(ex)}");
            }
        }

        return new GcReport(report.Containers, report.Images, report.Problems) { Tagged = report.Tagged };
    }

    private static async Task<IReadOnlyList<string>> CollectOrphanTagsCoreAsync(
        DockerEngine client, string cacheLabel, Func<string, bool> hasEntry, Func<string, IReadOnlyList<string>> entriesFor, string? scope, CancellationToken cancellationToken)
    {
        var removed = new List<string>();
        var repository = DockerNames.CacheRepository(cacheLabel);

        // By name, whatever the labels: an image fetched from the shared cache carries the labels of the cache that made it.
        var images = await client.ListImagesAsync(scope is null ? [] : [scope], cancellationToken, repositories: [repository, DockerNames.LegacyCacheRepository]);
        foreach (var image in images)
        {
            var references = image.RepoTags ?? [];
            if (references.Any(r => DockerNames.IsLegacyCacheReference(r, out _)))
            {
                await TakeOverAsync(client, image, repository, entriesFor, cancellationToken);
            }

            foreach (var reference in references)
            {
                var orphan = DockerNames.IsCacheReference(reference, cacheLabel, out var tag)
                    ? !hasEntry(tag)
                    : DockerNames.IsLegacyCacheReference(reference, out tag) && CacheOf(image.Labels) == cacheLabel && !hasEntry(tag);
                if (!orphan)
                {
                    continue;
                }

                try
                {
                    // Never forced: an image a container still uses keeps its tag until a later collection.
                    await client.RemoveImageAsync(reference, force: false, cancellationToken);
                    removed.Add(reference);
                }
                catch (DockerApiException)
                {
                    // In use right now; the next collection tries again.
                }
            }
        }

        return removed;
    }

    // An image named the way every cache named its images before each named its own: this cache's entries that record
    // it get their names first, so another cache dropping the legacy name no longer takes it.
    private static async Task TakeOverAsync(
        DockerEngine client, ImagesListResponse image, string repository, Func<string, IReadOnlyList<string>> entriesFor, CancellationToken cancellationToken)
    {
        foreach (var key in entriesFor(image.ID))
        {
            if (!(image.RepoTags ?? []).Contains($"{repository}:{DockerNames.CacheTag(key)}"))
            {
                await client.TagImageAsync(image.ID, repository, DockerNames.CacheTag(key), cancellationToken);
            }
        }
    }

    private static string CacheOf(IDictionary<string, string>? labels) =>
        labels is not null && labels.TryGetValue(DockerNames.CacheLabel, out var label) ? label : "";

    // Untagged, or named by its run: something a run leaves only until it ends.
    private static bool HoldsRunLeftovers(ImagesListResponse image) =>
        References(image) is var references && (references.Count == 0 || references.Any(DockerNames.IsRunReference));

    private static List<string> References(ImagesListResponse image) => [.. (image.RepoTags ?? []).Where(r => r != "<none>:<none>")];

    private static async Task ReapImageAsync(
        DockerEngine client, ImagesListResponse image, string cacheLabel, Func<string, IReadOnlyList<string>> entriesFor, Collected report, CancellationToken cancellationToken)
    {
        var references = References(image);
        var runNames = references.Where(DockerNames.IsRunReference).ToList();
        if (references.Any(r => !DockerNames.IsRunReference(r) && !DockerNames.IsAnyCacheReference(r)))
        {
            return; // Someone else named it: not ours to take.
        }

        // This cache's names only: another cache dir's name on the image (it fetched it) holds it for that cache, and
        // another cache's image for the same key is that cache's, which a name of this cache must never move.
        var keys = entriesFor(image.ID);
        foreach (var key in keys.Where(k => !references.Contains(DockerNames.CacheReference(cacheLabel, k))))
        {
            // Killed between publishing an entry and tagging the image: the tag the entry's image should have.
            // Every entry's, since an image shared by several goes with its last tag.
            await client.TagImageAsync(image.ID, DockerNames.CacheRepository(cacheLabel), DockerNames.CacheTag(key), cancellationToken);
            report.Tagged.Add(DockerNames.CacheReference(cacheLabel, key));
        }

        if (keys.Count == 0 && references.Count == 0)
        {
            await client.RemoveImageAsync(image.ID, force: false, cancellationToken);
            report.Images.Add(image.ID);
            return;
        }

        // Its run's own names go; an image with no other name goes with them.
        foreach (var name in runNames)
        {
            await client.RemoveImageAsync(name, force: false, cancellationToken);
            report.Images.Add(name);
        }
    }

    private static string Short(string id) => id.Replace("sha256:", "", StringComparison.Ordinal) is var bare ? bare[..Math.Min(12, bare.Length)] : id;

    private sealed class Collected
    {
        public List<string> Containers { get; } = [];

        public List<string> Images { get; } = [];

        public List<string> Tagged { get; } = [];

        public List<string> Problems { get; } = [];
    }
}
