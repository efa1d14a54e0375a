using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Harmont.Aot.Runners.Docker;

/// <summary>A small Docker Engine API client over HttpClient and source-generated JSON; AOT-safe.</summary>
/// <remarks>
/// The API version is negotiated on first use: the lower of the engine's version and
/// <see cref="MaximumApiVersion"/>, refusing engines older than <see cref="MinimumApiVersion"/>.
/// </remarks>
internal sealed partial class DockerEngineClient : IDisposable
{
    /// <summary>Oldest engine API this client works with (Docker 20.10).</summary>
    public static readonly Version MinimumApiVersion = new(1, 41);

    /// <summary>Newest engine API this client asks for; newer engines answer in this dialect.</summary>
    public static readonly Version MaximumApiVersion = new(1, 43);

    private static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(2);

    private readonly HttpClient _http;
    private readonly SemaphoreSlim _negotiation = new(1, 1);
    private string? _pathPrefix;

    /// <summary>Creates a client for <paramref name="endpoint"/> (see <see cref="DockerEndpoint.FromEnvironment"/>).</summary>
    public DockerEngineClient(DockerEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        Endpoint = endpoint;
        var handler = new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30) };
        if (Endpoint.SocketPath is { } socketPath)
        {
            handler.ConnectCallback = (_, ct) => ConnectUnixAsync(socketPath, ct);
        }

        // Waits and followed logs last as long as the step does; callers bound them with tokens.
        _http = new HttpClient(handler, disposeHandler: true)
        {
            BaseAddress = Endpoint.BaseAddress,
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>The engine this client talks to.</summary>
    public DockerEndpoint Endpoint { get; }

    /// <summary>Whether an engine answers at all, within about two seconds. Never throws for an absent engine.</summary>
    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(PingTimeout);
        try
        {
            using var response = await _http.GetAsync(new Uri("_ping", UriKind.Relative), timeout.Token);
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested &&
                                   ex is HttpRequestException or SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Negotiates (once) and returns the API version used in request paths, e.g. <c>1.41</c>.</summary>
    public async Task<string> GetApiVersionAsync(CancellationToken cancellationToken) =>
        (await GetPathPrefixAsync(cancellationToken))[2..];

    /// <inheritdoc />
    public void Dispose()
    {
        _http.Dispose();
        _negotiation.Dispose();
    }

    private static async ValueTask<Stream> ConnectUnixAsync(string socketPath, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task<string> GetPathPrefixAsync(CancellationToken cancellationToken)
    {
        if (_pathPrefix is { } known)
        {
            return known;
        }

        await _negotiation.WaitAsync(cancellationToken);
        try
        {
            if (_pathPrefix is null)
            {
                using var response = await SendRawAsync(HttpMethod.Get, "/version", null, HttpCompletionOption.ResponseContentRead, cancellationToken);
                await EnsureSuccessAsync(response, "reading the engine version", cancellationToken);
                var version = await ReadJsonAsync(response, DockerJsonContext.Default.VersionResponse, cancellationToken);
                _pathPrefix = "/v" + ChooseApiVersion(version.ApiVersion).ToString(2);
            }

            return _pathPrefix;
        }
        finally
        {
            _negotiation.Release();
        }
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

    /// <summary>Sends a request under the negotiated version prefix.</summary>
    private async Task<HttpResponseMessage> SendAsync(
        HttpMethod method, string pathAndQuery, HttpContent? content, CancellationToken cancellationToken,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        var prefix = await GetPathPrefixAsync(cancellationToken);
        return await SendRawAsync(method, prefix + pathAndQuery, content, completion, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendRawAsync(
        HttpMethod method, string pathAndQuery, HttpContent? content, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(pathAndQuery, UriKind.Relative)) { Content = content };
        try
        {
            return await _http.SendAsync(request, completion, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new DockerEngineException($"cannot reach the Docker engine at {Endpoint}: {ex.Message}", ex);
        }
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string action, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var message = await ReadErrorMessageAsync(response, cancellationToken);
        throw new DockerEngineException(
            response.StatusCode, message, $"{action} failed: {(int)response.StatusCode} {message}");
    }

    private static async Task<string> ReadErrorMessageAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = (await response.Content.ReadAsStringAsync(cancellationToken)).Trim();
        if (body.StartsWith('{'))
        {
            try
            {
                if (JsonSerializer.Deserialize(body, DockerJsonContext.Default.ErrorResponse)?.Message is { Length: > 0 } message)
                {
                    return message;
                }
            }
            catch (JsonException)
            {
                // Not the engine's usual shape; the raw body below is the best explanation we have.
            }
        }

        return body.Length > 0 ? Truncate(body, 500) : response.ReasonPhrase ?? response.StatusCode.ToString();
    }

    private static async Task<T> ReadJsonAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        return await JsonSerializer.DeserializeAsync(stream, typeInfo, cancellationToken)
               ?? throw new DockerEngineException($"the Docker engine sent an empty {typeof(T).Name}.");
    }

    private static StringContent JsonBody<T>(T value, JsonTypeInfo<T> typeInfo) =>
        new(JsonSerializer.Serialize(value, typeInfo), Encoding.UTF8, "application/json");

    /// <summary>Escapes an image or container name for a path, keeping the slashes the engine's router expects.</summary>
    private static string PathName(string name) => Uri.EscapeDataString(name).Replace("%2F", "/", StringComparison.Ordinal);

    private static string Q(string value) => Uri.EscapeDataString(value);

    private static string LabelFilters(IEnumerable<string> labels, bool danglingOnly = false)
    {
        var filters = new Dictionary<string, string[]>(StringComparer.Ordinal) { ["label"] = labels.ToArray() };
        if (danglingOnly)
        {
            filters["dangling"] = ["true"];
        }

        return Q(JsonSerializer.Serialize(filters, DockerJsonContext.Default.DictionaryStringStringArray));
    }

    private static bool IsStatus(HttpResponseMessage response, HttpStatusCode code) => response.StatusCode == code;

    private static string Truncate(string text, int max) =>
        text.Length <= max ? text : string.Concat(text.AsSpan(0, max), "…");
}
