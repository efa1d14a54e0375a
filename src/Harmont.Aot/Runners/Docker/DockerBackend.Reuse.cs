using Docker.DotNet.Models;

namespace Harmont.Aot.Runners.Docker;

// A step that changed nothing outside its workspace is not committed: its image would equal the one it started from.
internal sealed partial class DockerBackend
{
    /// <summary>
    /// The image the step started from, when it may stand for the step's own snapshot: the container changed
    /// nothing any later container could see, and, for a cached step, that image is a cached image of this
    /// cache, so its entry shares an image whose every holder is a cache tag (see <see cref="DropSnapshotAsync"/>).
    /// A user's image (a cached root's) is never one: the cache must not come to hold what it did not make. Null: commit.
    /// </summary>
    private async Task<string?> ReusableBaseAsync(string id, StepInvocation invocation, ImageInspectResponse baseImage, CancellationToken cancellationToken)
    {
        if (invocation.CacheKey is not null && !IsCachedImageOfOurs(baseImage))
        {
            return null;
        }

        return await ChangedOnlyWorkspaceAsync(id, cancellationToken) ? baseImage.ID : null;
    }

    /// <summary>
    /// Whether the stopped container changed nothing outside its workspace: read from its overlay2 layer where
    /// this process can (<see cref="ContainerLayer"/>), else the engine's change list, which on overlay2 mounts
    /// the layer and walks it (about a third of a second a step; bench/README.md, per-step overhead).
    /// </summary>
    private async Task<bool> ChangedOnlyWorkspaceAsync(string id, CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsLinux()
            && (await _engine.InspectContainerAsync(id, cancellationToken))?.GraphDriver is { Name: "overlay2", Data: { } data }
            && data.TryGetValue("UpperDir", out var upper) && data.TryGetValue("LowerDir", out var lower)
            && ContainerLayer.ChangedOutsideWorkspace(upper, lower.Split(':', StringSplitOptions.RemoveEmptyEntries)) is { } changed)
        {
            return !changed;
        }

        var changes = await _engine.Api.Containers.InspectChangesAsync(id, cancellationToken);
        return changes is null || changes.All(c => IsHiddenByWorkspace(c.Path));
    }

    /// <summary>
    /// Whether a change at <paramref name="path"/> is one no container of a run can see: every step's container
    /// has its workspace bind-mounted over <c>/workspace</c>, and the engine makes the mount point and the
    /// working directory under it in the container's own layer before mounting.
    /// </summary>
    internal static bool IsHiddenByWorkspace(string? path) =>
        path is "/workspace" || (path?.StartsWith("/workspace/", StringComparison.Ordinal) ?? false);

    private bool IsCachedImageOfOurs(ImageInspectResponse image) =>
        CacheLabel is { Length: > 0 } cache
        && IsOurs(image) && image.Config?.Labels is { } labels
        && labels.TryGetValue(DockerNames.EphemeralLabel, out var ephemeral) && ephemeral == "0"
        && labels.TryGetValue(DockerNames.CacheLabel, out var label) && label == cache;
}
