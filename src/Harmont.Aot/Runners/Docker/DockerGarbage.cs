using System.Globalization;
using Docker.DotNet;
using Docker.DotNet.Models;
using Harmont.Aot.Cleanup;

namespace Harmont.Aot.Runners.Docker;

/// <summary>What a garbage collection removed, and what it tried to remove but could not.</summary>
/// <param name="RemovedContainers">Ids of the containers removed.</param>
/// <param name="RemovedImages">References (or ids, when untagged) of the images removed.</param>
/// <param name="Problems">One line per object that was due but could not be removed; they are left for a later run.</param>
internal sealed record GcReport(IReadOnlyList<string> RemovedContainers, IReadOnlyList<string> RemovedImages, IReadOnlyList<string> Problems)
{
    /// <summary>Cache tags put back on images whose entries record them.</summary>
    public IReadOnlyList<string> Tagged { get; init; } = [];
}

/// <summary>How old leftovers must be before <see cref="DockerGarbage"/> takes them.</summary>
/// <param name="StoppedContainerAge">How long a container must have been stopped (or created and never started).</param>
/// <param name="EphemeralImageAge">How old an ephemeral snapshot must be.</param>
/// <param name="Scope">An extra <c>key=value</c> label every collected object must carry; null for none. Tests use it to keep to their own objects.</param>
internal sealed record GcPolicy(TimeSpan StoppedContainerAge, TimeSpan EphemeralImageAge, string? Scope = null)
{
    /// <summary>
    /// An hour for containers: a step's container is stopped but still needed while its snapshot is committed
    /// or flattened, which for a large filesystem takes minutes, and for another machine's run (or one made
    /// before runs labelled their lock) nothing tells a live run's stopped container from a crashed one's.
    /// A day for ephemeral snapshots, as the design says. This machine's dead runs do not wait: see ReapDeadRunsAsync.
    /// </summary>
    public static GcPolicy Default { get; } = new(TimeSpan.FromHours(1), TimeSpan.FromDays(1));
}

/// <summary>
/// Removes this runner's leftovers from crashed runs, and nothing else on the engine: at once for runs of this
/// machine whose lock is free (<see cref="ReapDeadRunsAsync"/>), by age for the rest (another machine's runs
/// on a shared engine, objects made before runs were labelled with their lock).
/// </summary>
/// <remarks>
/// Safe next to a concurrent run: only objects labelled <see cref="DockerNames.OwnerLabel"/> are looked at;
/// a running, paused or restarting container is never touched, whatever its age; a stopped one only once
/// it has been stopped longer than any run keeps one; an image only without force, so one a container
/// still uses stays.
/// </remarks>
internal static partial class DockerGarbage
{
    /// <summary>Collects with <see cref="GcPolicy.Default"/>.</summary>
    public static Task<GcReport> CollectAsync(DockerEngine engine, DateTimeOffset now, CancellationToken cancellationToken) =>
        CollectAsync(engine, now, GcPolicy.Default, cancellationToken);

    /// <summary>Removes stopped labelled containers, ephemeral snapshots and unclaimed cached-step images older than <paramref name="policy"/> allows.</summary>
    public static Task<GcReport> CollectAsync(DockerEngine engine, DateTimeOffset now, GcPolicy policy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(policy);
        return engine.GuardAsync(() => CollectCoreAsync(engine, now, policy, cancellationToken));
    }

    private static async Task<GcReport> CollectCoreAsync(DockerEngine client, DateTimeOffset now, GcPolicy policy, CancellationToken cancellationToken)
    {
        var removedContainers = new List<string>();
        var removedImages = new List<string>();
        var problems = new List<string>();

        foreach (var container in await client.ListContainersAsync(Filters(policy, $"{DockerNames.OwnerLabel}=1"), cancellationToken))
        {
            if (IsLive(container.Labels) || await StoppedSinceAsync(client, container, cancellationToken) is not { } stopped || now - stopped < policy.StoppedContainerAge)
            {
                continue;
            }

            try
            {
                await client.RemoveContainerAsync(container.ID, force: false, cancellationToken);
                removedContainers.Add(container.ID);
            }
            catch (DockerApiException ex)
            {
                // Most likely it was started again between the look and the removal, which is fine.
                problems.Add($"container {container.ID[..Math.Min(12, container.ID.Length)]}: {DockerEngine.MessageOf(ex)}");
            }
        }

        // Ephemeral snapshots, and any untagged image of ours: every image this runner keeps is tagged
        // (a cached step's once its entry is published), so an untagged one belongs to a run that lost
        // a race for its cache entry or died before claiming it.
        var ephemeral = await client.ListImagesAsync(
            Filters(policy, $"{DockerNames.OwnerLabel}=1", $"{DockerNames.EphemeralLabel}=1"), cancellationToken);
        var unclaimed = await client.ListImagesAsync(Filters(policy, $"{DockerNames.OwnerLabel}=1"), cancellationToken, untaggedOnly: true);
        var images = ephemeral.Concat(unclaimed).DistinctBy(i => i.ID).ToList();

        // Newest first: a child goes before its parent, which is then no longer in use.
        foreach (var image in images.OrderByDescending(i => i.Created))
        {
            if (IsLive(image.Labels) || now - Utc(image.Created) < policy.EphemeralImageAge)
            {
                continue;
            }

            var references = image.RepoTags is { Count: > 0 } tags && !tags.Contains("<none>:<none>") ? tags : [image.ID];
            foreach (var reference in references)
            {
                try
                {
                    // Never forced: the engine then refuses to take an image a container still uses.
                    await client.RemoveImageAsync(reference, force: false, cancellationToken);
                    removedImages.Add(reference);
                }
                catch (DockerApiException ex)
                {
                    problems.Add($"image {reference}: {DockerEngine.MessageOf(ex)}");
                }
            }
        }

        return new GcReport(removedContainers, removedImages, problems);
    }

    /// <summary>When the container stopped (or was created, if it never ran); null while it runs or is being removed.</summary>
    private static async Task<DateTimeOffset?> StoppedSinceAsync(DockerEngine client, ContainerListResponse container, CancellationToken cancellationToken)
    {
        if (container.State is not ("exited" or "created" or "dead"))
        {
            return null;
        }

        // The list's state can be stale by the time we look closer; the inspect is what counts.
        var inspect = await client.InspectContainerAsync(container.ID, cancellationToken);
        return inspect?.State?.Status switch
        {
            "exited" or "dead" when FinishedAt(inspect.State) is { } finished => finished,
            "exited" or "dead" or "created" => Utc(inspect.Created),
            _ => null,
        };
    }

    /// <summary>When a stopped container stopped; null for one that never ran (the engine says year 1).</summary>
    internal static DateTimeOffset? FinishedAt(State? state) =>
        DateTimeOffset.TryParse(state?.FinishedAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var finished) && finished > DateTimeOffset.UnixEpoch
            ? finished
            : null;

    // The library reads the engine's timestamps as UTC; one that came unmarked is UTC too.
    private static DateTimeOffset Utc(DateTime time) =>
        time.Kind == DateTimeKind.Local ? new DateTimeOffset(time.ToUniversalTime(), TimeSpan.Zero) : new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc));

    // A run of this machine that still holds its lock: however old its objects, they are in use.
    private static bool IsLive(IDictionary<string, string>? labels) =>
        LockOf(labels) is { Length: > 0 } label && OwnerLock.IsDeadLabel(label) == false;

    private static string LockOf(IDictionary<string, string>? labels) =>
        labels is not null && labels.TryGetValue(DockerNames.LockLabel, out var label) ? label : "";

    private static List<string> Filters(GcPolicy policy, params string[] labels) =>
        policy.Scope is null ? [.. labels] : [.. labels, policy.Scope];
}
