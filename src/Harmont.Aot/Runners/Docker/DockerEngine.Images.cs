using Docker.DotNet.Models;
using Harmont.Aot.Cache;

namespace Harmont.Aot.Runners.Docker;

// Image operations whose progress streams, or whose way of naming what they made, need reading.
internal sealed partial class DockerEngine
{
    /// <summary>Pulls <paramref name="image"/> from its registry, passing on status lines.</summary>
    /// <param name="image">The reference to pull.</param>
    /// <param name="progress">Receives each status line (<c>layer status current/total</c>), or null.</param>
    /// <param name="barInterval">Lines that only move a byte count are passed on at most this often; status changes always are.</param>
    /// <param name="cancellationToken">Stops the pull.</param>
    /// <exception cref="DockerEngineException">The engine reported a failure inside the stream it answered with.</exception>
    public async Task PullImageAsync(string image, Action<string>? progress, TimeSpan barInterval, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(image);
        var (name, tag) = SplitReference(image);
        string? error = null;
        long? lastBar = null;
        await _client.Images.CreateImageAsync(
            new ImagesCreateParameters { FromImage = name, Tag = tag },
            null,
            new Reporter(message =>
            {
                if (message.Error?.Message is { Length: > 0 } failed)
                {
                    error ??= failed;
                    return;
                }

                if (progress is null || message.Status is null)
                {
                    return;
                }

                // A pull sends byte counts many times a second per layer; a log wants a few.
                if (message.Progress is { Current: > 0 } && barInterval > TimeSpan.Zero)
                {
                    var now = Environment.TickCount64;
                    if (lastBar is { } previous && now - previous < (long)barInterval.TotalMilliseconds)
                    {
                        return;
                    }

                    lastBar = now;
                }

                progress(string.Join(' ', new[] { message.ID, message.Status, Counts(message.Progress) }.Where(s => !string.IsNullOrEmpty(s))));
            }),
            cancellationToken);

        if (error is not null)
        {
            // The engine answered 200 and then failed inside the stream.
            throw new DockerEngineException(null, error, $"pulling image '{image}' failed: {error}");
        }
    }

    /// <summary>Creates an image from a root filesystem tarball, as <c>docker import</c> does; returns its id.</summary>
    /// <remarks>The tarball is sent as it is read, never held whole.</remarks>
    public async Task<string> ImportImageAsync(
        Stream rootfsTar, IReadOnlyDictionary<string, string>? labels, CancellationToken cancellationToken, string? repo = null, string? tag = null)
    {
        ArgumentNullException.ThrowIfNull(rootfsTar);
        string? last = null, error = null;
        var parameters = new ImagesCreateParameters
        {
            Repo = repo,
            Tag = tag,
            Changes = labels?.Select(l => $"LABEL {Quote(l.Key)}={Quote(l.Value)}").ToList(),
        };
        await _client.Images.CreateImageAsync(
            parameters,
            rootfsTar,
            null,
            new Reporter(message =>
            {
                error ??= message.Error?.Message;
                last = message.Status ?? last;
            }),
            cancellationToken);
        if (error is not null)
        {
            throw new DockerEngineException(null, error, $"importing an image failed: {error}");
        }

        return last is not null && last.StartsWith("sha256:", StringComparison.Ordinal)
            ? last
            : throw new DockerEngineException($"the Docker engine imported an image but sent no id (last status '{last}').");
    }

    /// <summary>Commits a container as <c>repo:tag</c> (untagged when both are null) with <paramref name="labels"/> added to its config; returns the image id.</summary>
    public async Task<string> CommitAsync(
        string containerId, string? repo, string? tag, IDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(containerId);
        if ((repo is null) != (tag is null))
        {
            throw new ArgumentException("a commit names both a repository and a tag, or neither.", nameof(repo));
        }

        // Only the labels are given: the engine merges them over the container's own config, which the image keeps.
        var reply = await _client.Images.CommitContainerChangesAsync(
            new CommitContainerChangesParameters { ContainerID = containerId, RepositoryName = repo, Tag = tag, Labels = labels },
            cancellationToken);
        return reply.ID is { Length: > 0 } id ? id : throw new DockerEngineException("the Docker engine committed an image but sent no id.");
    }

    /// <summary>Splits a reference into the engine's <c>fromImage</c> and <c>tag</c> (a digest counts as a tag).</summary>
    /// <remarks>The tag is never empty: an empty one would have the engine pull every tag of the repository.</remarks>
    internal static (string Name, string Tag) SplitReference(string image)
    {
        var at = image.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            return (image[..at], image[(at + 1)..]);
        }

        // A colon before the last slash belongs to a registry port (localhost:5000/app), not a tag.
        var colon = image.LastIndexOf(':');
        return colon > image.LastIndexOf('/') ? (image[..colon], image[(colon + 1)..]) : (image, "latest");
    }

    private static string? Counts(JSONProgress? progress) => progress switch
    {
        { Current: > 0 and var current, Total: > 0 and var total } => $"{CacheUnits.FormatSize(current)}/{CacheUnits.FormatSize(total)}",
        { Current: > 0 and var current } => CacheUnits.FormatSize(current),
        _ => null,
    };

    // Dockerfile-style quoting, so label keys and values may hold spaces, quotes or equals signs;
    // '$' is escaped too, since the engine expands variables in LABEL.
    private static string Quote(string text) =>
        "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal)
            .Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("$", "\\$", StringComparison.Ordinal) + "\"";

    // Called on the reading thread, in order: Progress<T> would post each message to the thread pool.
    private sealed class Reporter(Action<JSONMessage> report) : IProgress<JSONMessage>
    {
        public void Report(JSONMessage value) => report(value);
    }
}
