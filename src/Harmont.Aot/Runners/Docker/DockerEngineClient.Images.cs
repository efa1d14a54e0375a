using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Harmont.Aot.Runners.Docker;

// Image operations: inspect, pull, import, commit, remove, list.
internal sealed partial class DockerEngineClient
{
    /// <summary>Whether the engine has <paramref name="image"/> locally.</summary>
    public async Task<bool> ImageExistsAsync(string image, CancellationToken cancellationToken) =>
        await InspectImageAsync(image, cancellationToken) is not null;

    /// <summary>Reads <paramref name="image"/>'s id, layers and config; null when the engine does not have it.</summary>
    public async Task<ImageInspect?> InspectImageAsync(string image, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(image);
        using var response = await SendAsync(HttpMethod.Get, $"/images/{PathName(image)}/json", null, cancellationToken);
        if (IsStatus(response, HttpStatusCode.NotFound))
        {
            return null;
        }

        await EnsureSuccessAsync(response, $"inspecting image '{image}'", cancellationToken);
        return await ReadJsonAsync(response, DockerJsonContext.Default.ImageInspect, cancellationToken);
    }

    /// <summary>Pulls <paramref name="image"/> from its registry, reporting progress lines.</summary>
    /// <param name="image">The reference to pull.</param>
    /// <param name="progress">Receives each status line (<c>layer status [bar]</c>), or null.</param>
    /// <param name="cancellationToken">Stops the pull.</param>
    /// <param name="barInterval">
    /// Lines that only move a progress bar are passed on at most this often; status changes always are.
    /// Zero passes every line.
    /// </param>
    /// <exception cref="DockerEngineException">The pull failed, before or during the stream; the message names the image and the reason.</exception>
    public async Task PullImageAsync(string image, Action<string>? progress, CancellationToken cancellationToken, TimeSpan barInterval = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(image);
        var (name, tag) = SplitReference(image);
        var action = $"pulling image '{image}'";
        using var response = await SendAsync(
            HttpMethod.Post, $"/images/create?fromImage={Q(name)}&tag={Q(tag)}", null, cancellationToken,
            HttpCompletionOption.ResponseHeadersRead);
        await EnsureSuccessAsync(response, action, cancellationToken);
        await ReadProgressAsync(response, action, progress, cancellationToken, barInterval);
    }

    /// <summary>Creates <c>repo:tag</c> from a root filesystem tarball, as <c>docker import</c> does; returns the engine's last status (the image id).</summary>
    /// <remarks>The stream is read but not disposed.</remarks>
    public Task<string?> ImportImageAsync(
        Stream rootfsTar, string repo, string tag, IReadOnlyDictionary<string, string>? labels, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(repo);
        ArgumentException.ThrowIfNullOrEmpty(tag);
        return ImportImageCoreAsync(rootfsTar, $"&repo={Q(repo)}&tag={Q(tag)}", $"'{repo}:{tag}'", labels, cancellationToken);
    }

    /// <summary>Creates an untagged image from a root filesystem tarball; returns its id.</summary>
    /// <remarks>The stream is read as it arrives, never buffered whole, and is not disposed.</remarks>
    public async Task<string> ImportImageAsync(Stream rootfsTar, IReadOnlyDictionary<string, string>? labels, CancellationToken cancellationToken)
    {
        var id = await ImportImageCoreAsync(rootfsTar, "", "from a filesystem export", labels, cancellationToken);
        return id is not null && id.StartsWith("sha256:", StringComparison.Ordinal)
            ? id
            : throw new DockerEngineException($"the Docker engine imported an image but sent no id (last status '{id}').");
    }

    private async Task<string?> ImportImageCoreAsync(
        Stream rootfsTar, string target, string what, IReadOnlyDictionary<string, string>? labels, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rootfsTar);
        var query = new StringBuilder($"/images/create?fromSrc=-{target}");
        foreach (var (key, value) in labels ?? new Dictionary<string, string>())
        {
            query.Append("&changes=").Append(Q($"LABEL {Quote(key)}={Quote(value)}"));
        }

        using var content = new BorrowedStreamContent(rootfsTar);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-tar");
        var action = $"importing image {what}";
        using var response = await SendAsync(
            HttpMethod.Post, query.ToString(), content, cancellationToken, HttpCompletionOption.ResponseHeadersRead);
        await EnsureSuccessAsync(response, action, cancellationToken);
        return await ReadProgressAsync(response, action, null, cancellationToken);
    }

    /// <summary>Commits a container's filesystem as <c>repo:tag</c> (untagged when both are null) with <paramref name="labels"/>; returns the image id.</summary>
    /// <remarks>The image's config is the container's, with <paramref name="labels"/> added.</remarks>
    public async Task<string> CommitAsync(
        string containerId, string? repo, string? tag, IReadOnlyDictionary<string, string>? labels, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(containerId);
        if ((repo is null) != (tag is null) || repo?.Length == 0 || tag?.Length == 0)
        {
            throw new ArgumentException("a commit names both a repository and a tag, or neither.", nameof(repo));
        }

        var name = repo is null ? "" : $"&repo={Q(repo)}&tag={Q(tag!)}";
        using var body = JsonBody(new CommitRequest { Labels = labels }, DockerJsonContext.Default.CommitRequest);
        using var response = await SendAsync(HttpMethod.Post, $"/commit?container={Q(containerId)}{name}", body, cancellationToken);
        await EnsureSuccessAsync(response, $"committing container {containerId}{(repo is null ? "" : $" as '{repo}:{tag}'")}", cancellationToken);
        var reply = await ReadJsonAsync(response, DockerJsonContext.Default.IdResponse, cancellationToken);
        return reply.Id ?? throw new DockerEngineException("the Docker engine committed an image but sent no id.");
    }

    /// <summary>Names <paramref name="image"/> (an id or reference) <c>repo:tag</c>, moving the tag if another image had it.</summary>
    public async Task TagImageAsync(string image, string repo, string tag, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(image);
        ArgumentException.ThrowIfNullOrEmpty(repo);
        ArgumentException.ThrowIfNullOrEmpty(tag);
        using var response = await SendAsync(HttpMethod.Post, $"/images/{PathName(image)}/tag?repo={Q(repo)}&tag={Q(tag)}", null, cancellationToken);
        await EnsureSuccessAsync(response, $"tagging image {image} as '{repo}:{tag}'", cancellationToken);
    }

    /// <summary>Removes an image reference (and its layers once unreferenced); absent images are fine.</summary>
    public async Task RemoveImageAsync(string image, bool force, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(image);
        using var response = await SendAsync(
            HttpMethod.Delete, $"/images/{PathName(image)}?force={(force ? "1" : "0")}", null, cancellationToken);
        if (!IsStatus(response, HttpStatusCode.NotFound))
        {
            await EnsureSuccessAsync(response, $"removing image '{image}'", cancellationToken);
        }
    }

    /// <summary>Lists top-level images carrying <paramref name="labelFilter"/> (<c>key</c> or <c>key=value</c>).</summary>
    public Task<IReadOnlyList<ImageSummary>> ListImagesAsync(string labelFilter, CancellationToken cancellationToken) =>
        ListImagesAsync([labelFilter], cancellationToken);

    /// <summary>Lists top-level images carrying every label in <paramref name="labelFilters"/> (<c>key</c> or <c>key=value</c>).</summary>
    /// <param name="labelFilters">The labels.</param>
    /// <param name="cancellationToken">Stops the request.</param>
    /// <param name="untaggedOnly">Lists only images with no tag (the engine's <c>dangling</c> filter).</param>
    public async Task<IReadOnlyList<ImageSummary>> ListImagesAsync(IEnumerable<string> labelFilters, CancellationToken cancellationToken, bool untaggedOnly = false)
    {
        ArgumentNullException.ThrowIfNull(labelFilters);
        using var response = await SendAsync(HttpMethod.Get, $"/images/json?filters={LabelFilters(labelFilters, untaggedOnly)}", null, cancellationToken);
        await EnsureSuccessAsync(response, "listing images", cancellationToken);
        return await ReadJsonAsync(response, DockerJsonContext.Default.ListImageSummary, cancellationToken);
    }

    /// <summary>Splits a reference into the engine's <c>fromImage</c> and <c>tag</c> (a digest counts as a tag).</summary>
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

    // Dockerfile-style quoting, so label keys and values may hold spaces, quotes or equals signs;
    // '$' is escaped too, since the engine expands variables in LABEL.
    private static string Quote(string text) =>
        "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal)
            .Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("$", "\\$", StringComparison.Ordinal) + "\"";

    /// <summary>Reads a JSON-lines progress stream; the engine reports failures inside it with HTTP 200.</summary>
    private static async Task<string?> ReadProgressAsync(
        HttpResponseMessage response, string action, Action<string>? progress, CancellationToken cancellationToken, TimeSpan barInterval = default)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string? last = null;
        long? lastBar = null;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            ProgressMessage? message;
            try
            {
                message = JsonSerializer.Deserialize(line, DockerJsonContext.Default.ProgressMessage);
            }
            catch (JsonException)
            {
                progress?.Invoke(line);
                continue;
            }

            if (message is null)
            {
                continue;
            }

            if ((message.Error ?? message.ErrorDetail?.Message) is { } error)
            {
                throw new DockerEngineException(null, error, $"{action} failed: {error}");
            }

            last = message.Status ?? last;
            if (progress is null || message.Status is null)
            {
                continue;
            }

            // A pull sends bar updates many times a second per layer; a log wants a few.
            if (!string.IsNullOrEmpty(message.Progress) && barInterval > TimeSpan.Zero)
            {
                var now = Environment.TickCount64;
                if (lastBar is { } previous && now - previous < (long)barInterval.TotalMilliseconds)
                {
                    continue;
                }

                lastBar = now;
            }

            progress(string.Join(' ', new[] { message.Id, message.Status, message.Progress }.Where(s => !string.IsNullOrEmpty(s))));
        }

        return last;
    }

    /// <summary>Sends a caller's stream as the request body without taking ownership of it.</summary>
    private sealed class BorrowedStreamContent(Stream source) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            source.CopyToAsync(stream);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
            source.CopyToAsync(stream, cancellationToken);

        protected override bool TryComputeLength(out long length)
        {
            length = source.CanSeek ? source.Length - source.Position : 0;
            return source.CanSeek;
        }
    }
}
