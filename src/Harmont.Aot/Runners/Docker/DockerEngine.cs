using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Docker.DotNet;
using Docker.DotNet.Models;
using Version = System.Version;

namespace Harmont.Aot.Runners.Docker;

/// <summary>An engine that answered, driven through Docker.DotNet; the one place its failures become <see cref="DockerEngineException"/>.</summary>
/// <remarks>
/// Requests are pinned to one API version chosen at connect time: the engine's own, up to
/// <see cref="MaximumApiVersion"/>, so a newer engine answers in a dialect this runner has been run against.
/// The helpers here are the calls whose "already gone" or "not there" answer is not a failure.
/// </remarks>
internal sealed partial class DockerEngine : IDisposable
{
    /// <summary>Oldest engine API this runner drives (Docker 20.10).</summary>
    public static readonly Version MinimumApiVersion = new(1, 41);

    /// <summary>Newest engine API asked for (Docker 29).</summary>
    public static readonly Version MaximumApiVersion = new(1, 52);

    /// <summary>How long an engine has to answer before it counts as absent.</summary>
    internal static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(2);

    private readonly DockerClient _client;

    private DockerEngine(DockerClient client, string endpoint, Version apiVersion)
    {
        _client = client;
        Endpoint = endpoint;
        ApiVersion = apiVersion;
    }

    /// <summary>The library's client, for every call that has no helper here.</summary>
    public IDockerClient Api => _client;

    /// <summary>Where the engine listens, as the user would write it in DOCKER_HOST.</summary>
    public string Endpoint { get; }

    /// <summary>The API version every request is made in.</summary>
    public Version ApiVersion { get; }

    /// <summary>Connects to the engine at <paramref name="endpoint"/>; null when nothing answers within about two seconds.</summary>
    /// <exception cref="DockerEngineException">An engine answered but cannot be driven (too old, or its version unreadable).</exception>
    public static async Task<DockerEngine?> ConnectAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var display = DockerHost.Describe(endpoint);
        string? reported;
        using (var probe = Build(endpoint, null))
        {
            // One request both finds the engine and says which API it speaks: a run that only hits waits on it.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(PingTimeout);
            try
            {
                reported = (await probe.System.GetVersionAsync(timeout.Token)).APIVersion;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && (IsFailure(ex) || ex is OperationCanceledException or IOException))
            {
                return null;
            }
        }

        var chosen = ChooseApiVersion(reported);
        return new DockerEngine(Build(endpoint, chosen), display, chosen);
    }

    /// <summary>Picks the API version to speak with an engine that reports <paramref name="serverApiVersion"/>.</summary>
    internal static Version ChooseApiVersion(string? serverApiVersion)
    {
        if (!Version.TryParse(serverApiVersion, out var server))
        {
            throw new DockerEngineException($"the Docker engine reported an unreadable API version '{serverApiVersion}'.");
        }

        if (server < MinimumApiVersion)
        {
            throw new DockerEngineException(
                $"the Docker engine speaks API {server.ToString(2)}, older than the {MinimumApiVersion.ToString(2)} this runner needs; upgrade Docker to 20.10 or newer.");
        }

        return server < MaximumApiVersion ? new Version(server.Major, server.Minor) : MaximumApiVersion;
    }

    /// <summary>Whether <paramref name="ex"/> is the engine refusing or the way to it failing, rather than a bug or a cancellation.</summary>
    public static bool IsFailure(Exception ex) => ex switch
    {
        DockerApiException or HttpRequestException or SocketException or TimeoutException => true,
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(IsFailure),
        _ => false,
    };

    /// <summary>The runner's one exception for an engine failure (see <see cref="IsFailure"/>); one already translated passes as it is.</summary>
    public DockerEngineException Translate(Exception ex) => Translate(ex, Endpoint);

    /// <summary>Runs <paramref name="call"/>, translating an engine failure: what the backend's callers see.</summary>
    public async Task<T> GuardAsync<T>(Func<Task<T>> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        try
        {
            return await call();
        }
        catch (Exception ex) when (IsFailure(ex))
        {
            throw Translate(ex);
        }
    }

    /// <summary>Runs <paramref name="call"/>, translating an engine failure.</summary>
    public Task GuardAsync(Func<Task> call) => GuardAsync(async () =>
    {
        await call();
        return true;
    });

    /// <summary>The engine's own explanation of a refusal (its JSON <c>message</c>), else the body as it came.</summary>
    public static string MessageOf(DockerApiException ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        var body = ex.ResponseBody?.Trim() ?? "";
        if (body.StartsWith('{'))
        {
            try
            {
                using var document = JsonDocument.Parse(body);
                if (document.RootElement.TryGetProperty("message", out var message) && message.GetString() is { Length: > 0 } text)
                {
                    return text;
                }
            }
            catch (JsonException)
            {
                // Not the engine's usual shape; the raw body below is the best explanation there is.
            }
        }

        return body.Length == 0 ? ex.StatusCode.ToString() : body.Length <= 500 ? body : string.Concat(body.AsSpan(0, 500), "…");
    }

    /// <summary>An image's id, layers and config; null when the engine does not have it.</summary>
    public async Task<ImageInspectResponse?> InspectImageAsync(string image, CancellationToken cancellationToken)
    {
        try
        {
            return await _client.Images.InspectImageAsync(image, cancellationToken);
        }
        catch (DockerImageNotFoundException)
        {
            return null;
        }
    }

    /// <summary>A container's state and config; null when it does not exist.</summary>
    public async Task<ContainerInspectResponse?> InspectContainerAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            return await _client.Containers.InspectContainerAsync(id, cancellationToken);
        }
        catch (DockerContainerNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Removes an image reference (and its layers once unreferenced); an absent one is fine.</summary>
    public async Task RemoveImageAsync(string image, bool force, CancellationToken cancellationToken)
    {
        try
        {
            await _client.Images.DeleteImageAsync(image, new ImageDeleteParameters { Force = force }, cancellationToken);
        }
        catch (DockerImageNotFoundException)
        {
            // Gone already, which is what was asked.
        }
    }

    /// <summary>Removes a container with its anonymous volumes; an absent one is fine, and one the engine is removing already is waited for.</summary>
    public async Task RemoveContainerAsync(string id, bool force, CancellationToken cancellationToken)
    {
        try
        {
            await _client.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = force, RemoveVolumes = true }, cancellationToken);
        }
        catch (DockerContainerNotFoundException)
        {
            // Gone already, which is what was asked.
        }
        catch (DockerApiException ex) when (ex.StatusCode == HttpStatusCode.Conflict && MessageOf(ex).Contains("already in progress", StringComparison.Ordinal))
        {
            // An AutoRemove container that ended (a network holder whose run let go of it): the engine's removal.
            if (!await WaitGoneAsync(id, RemovalPatience, cancellationToken))
            {
                throw;
            }
        }
    }

    /// <summary>Waits until no container <paramref name="id"/> exists, asking every 20 ms; false if one still does after <paramref name="patience"/>.</summary>
    public async Task<bool> WaitGoneAsync(string id, TimeSpan patience, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + patience;
        while (await InspectContainerAsync(id, cancellationToken) is not null)
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(20, cancellationToken);
        }

        return true;
    }

    // How long an engine's own removal of a container may take before a removal asked of it counts as failed.
    private static readonly TimeSpan RemovalPatience = TimeSpan.FromSeconds(10);

    /// <summary>Sends SIGKILL; a container that is gone or already stopped is fine.</summary>
    public async Task KillContainerAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            await _client.Containers.KillContainerAsync(id, new ContainerKillParameters(), cancellationToken);
        }
        catch (DockerApiException ex) when (ex.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
        {
            // Gone or not running: stopped either way.
        }
    }

    /// <summary>Containers, running or not, carrying every label in <paramref name="labels"/> (<c>key</c> or <c>key=value</c>).</summary>
    public async Task<IList<ContainerListResponse>> ListContainersAsync(IEnumerable<string> labels, CancellationToken cancellationToken) =>
        await _client.Containers.ListContainersAsync(new ContainersListParameters { All = true, Filters = Filters(labels, untaggedOnly: false, repositories: null) }, cancellationToken);

    /// <summary>
    /// Top-level images carrying every label in <paramref name="labels"/>; with <paramref name="untaggedOnly"/>, only those with no tag;
    /// with <paramref name="repositories"/>, only those named in one of them.
    /// </summary>
    public async Task<IList<ImagesListResponse>> ListImagesAsync(
        IEnumerable<string> labels, CancellationToken cancellationToken, bool untaggedOnly = false, IEnumerable<string>? repositories = null) =>
        await _client.Images.ListImagesAsync(new ImagesListParameters { Filters = Filters(labels, untaggedOnly, repositories) }, cancellationToken);

    /// <summary>Names <paramref name="image"/> <c>repo:tag</c>, moving the tag if another image had it.</summary>
    public Task TagImageAsync(string image, string repo, string tag, CancellationToken cancellationToken) =>
        _client.Images.TagImageAsync(image, new ImageTagParameters { RepositoryName = repo, Tag = tag }, cancellationToken);

    /// <inheritdoc />
    public void Dispose() => _client.Dispose();

    private static DockerEngineException Translate(Exception ex, string endpoint) => ex switch
    {
        DockerEngineException known => known,
        DockerApiException api => new DockerEngineException(api.StatusCode, MessageOf(api), $"the Docker engine answered {(int)api.StatusCode}: {MessageOf(api)}", api),
        _ => new DockerEngineException($"cannot reach the Docker engine at {endpoint}: {Innermost(ex).Message}", ex),
    };

    private static Exception Innermost(Exception ex) => ex is AggregateException { InnerExceptions.Count: > 0 } aggregate
        ? Innermost(aggregate.InnerExceptions[0])
        : ex.InnerException is { } inner && ex is HttpRequestException ? Innermost(inner) : ex;

    // The endpoint is the one given, never a context or DOCKER_HOST the library would read on its own. No
    // request times out by itself (the library's default is 100 s): committing a large container takes
    // longer, and every caller bounds what it waits for with its own token.
    private static DockerClient Build(Uri endpoint, Version? apiVersion) =>
        new DockerClientBuilder(new DockerConfig(new FixedHost(endpoint.ToString())))
            .WithEndpoint(endpoint)
            .WithApiVersion(apiVersion)
            .WithTimeout(Timeout.InfiniteTimeSpan)
            .Build();

    private static Dictionary<string, IDictionary<string, bool>> Filters(IEnumerable<string> labels, bool untaggedOnly, IEnumerable<string>? repositories)
    {
        var filters = new Dictionary<string, IDictionary<string, bool>>(StringComparer.Ordinal)
        {
            ["label"] = labels.ToDictionary(l => l, _ => true, StringComparer.Ordinal),
        };
        if (untaggedOnly)
        {
            filters["dangling"] = new Dictionary<string, bool> { ["true"] = true };
        }

        if (repositories is not null)
        {
            // The engine matches a pattern without a tag against the repository alone; several patterns match any one.
            filters["reference"] = repositories.ToDictionary(r => r, _ => true, StringComparer.Ordinal);
        }

        return filters;
    }

    private sealed class FixedHost(string host) : IDockerCliSettings
    {
        public string DockerHost => host;

        public string? DockerTlsVerify => null;

        public string? DockerContext => null;

        public string? DockerConfig => null;
    }
}
