using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Authentication;

namespace Harmont.Aot.Cache.Remote;

/// <summary>
/// A small client for the OCI distribution spec v2, over <see cref="HttpClient"/>: what the shared step cache
/// needs (blobs, upload sessions, manifests, tags) and no more. Authentication follows the registry's
/// <c>WWW-Authenticate</c> challenge: a bearer token from its realm (with the credential, if any, as basic
/// auth or as a refresh token), or basic auth itself. Everything the registry sends is hostile: sizes are
/// capped, digests checked while streaming, and errors never carry a secret.
/// </summary>
internal sealed partial class RegistryClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly RemoteCacheSetting _setting;
    private readonly RegistryCredentials _credentials;
    private readonly ConcurrentDictionary<string, string> _tokens = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _authGate = new(1, 1);
    private RegistryCredential? _credential;
    private bool _credentialRead;
    private volatile bool _basic;
    private long _sent;
    private long _received;

    /// <summary>Creates a client for the registry and repository <paramref name="setting"/> names.</summary>
    /// <param name="setting">The remote.</param>
    /// <param name="credentials">Where the credential comes from; read at the first challenge.</param>
    /// <param name="handler">The transport; null for a pooled sockets handler.</param>
    public RegistryClient(RemoteCacheSetting setting, RegistryCredentials credentials, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(setting);
        ArgumentNullException.ThrowIfNull(credentials);
        _setting = setting;
        _credentials = credentials;
        _http = new HttpClient(handler ?? new SocketsHttpHandler
        {
            ConnectTimeout = setting.Timeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxAutomaticRedirections = 5,
            AutomaticDecompression = DecompressionMethods.None,
        })
        {
            BaseAddress = setting.BaseAddress,

            // Each request has its own timeout below; a large blob may take longer than any fixed limit.
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("harmont-aot", "1"));
    }

    /// <summary>The remote this client speaks to.</summary>
    public RemoteCacheSetting Setting => _setting;

    /// <summary>Bytes of blob and manifest content sent to the registry so far.</summary>
    public long BytesSent => Interlocked.Read(ref _sent);

    /// <summary>Bytes of blob and manifest content received from the registry so far.</summary>
    public long BytesReceived => Interlocked.Read(ref _received);

    /// <summary>Blobs at least this big are uploaded in chunks of this size (PATCH), smaller ones in one PUT.</summary>
    public long ChunkSize { get; init; } = 32L << 20;

    private string Repository => _setting.Repository;

    private string PullScope => $"repository:{Repository}:pull";

    private string PushScope => $"repository:{Repository}:pull,push";

    /// <summary>The registry's answer to <c>GET /v2/</c> after authentication: throws unless it accepts this client.</summary>
    public async Task PingAsync(CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, "v2/"), PullScope, cancellationToken);
        await EnsureAsync(response, "answering the API check (GET /v2/)", cancellationToken);
    }

    public void Dispose()
    {
        _http.Dispose();
        _authGate.Dispose();
    }

    // Sends a request made fresh by make (so it can be sent again after a challenge), with this scope's token.
    private async Task<HttpResponseMessage> SendAsync(
        Func<HttpRequestMessage> make, string scope, CancellationToken cancellationToken, HttpCompletionOption completion = HttpCompletionOption.ResponseHeadersRead)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = make();
            if (_tokens.TryGetValue(scope, out var token))
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }
            else if (_basic && _credential is { } credential)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", credential.BasicHeader);
            }

            var response = await TimedAsync(
                ct => _http.SendAsync(request, completion, ct), $"{request.Method} {request.RequestUri}", cancellationToken, request.Content?.Headers.ContentLength ?? 0);
            if (response.StatusCode != HttpStatusCode.Unauthorized || attempt > 0)
            {
                return response;
            }

            try
            {
                if (!await AnswerChallengeAsync([.. response.Headers.WwwAuthenticate], scope, cancellationToken))
                {
                    return response; // No way in: the caller reports the registry's own 401.
                }
            }
            catch
            {
                response.Dispose();
                throw;
            }

            response.Dispose();
        }
    }

    /// <summary>
    /// The slowest a transfer may go: a request that moves <c>n</c> bytes must be done within the timeout plus
    /// <c>n</c> at this rate, so a registry that trickles a byte a second is a fault, not a run that never ends.
    /// </summary>
    public const long MinimumBytesPerSecond = 64 * 1024;

    /// <summary>How long a request that moves <paramref name="bytes"/> bytes may take, whole.</summary>
    public TimeSpan Deadline(long bytes) => _setting.Timeout + TimeSpan.FromSeconds((double)Math.Max(0, bytes) / MinimumBytesPerSecond);

    // Runs one network call under the remote's timeout (plus the time its body may take at the slowest rate
    // allowed); the user's cancellation stays a cancellation.
    private async Task<T> TimedAsync<T>(Func<CancellationToken, Task<T>> call, string what, CancellationToken cancellationToken, long bytes = 0)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var limit = Deadline(bytes);
        timeout.CancelAfter(limit);
        try
        {
            return await call(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RegistryException($"the registry {_setting.Host} did not answer {what} within {limit.TotalSeconds:0.#} s") { IsUnreachable = true };
        }
        catch (HttpRequestException ex)
        {
            throw new RegistryException($"cannot reach the registry {_setting.Host}: {Describe(ex)}", ex) { IsUnreachable = true };
        }
    }

    private static string Describe(HttpRequestException ex) =>
        ex.InnerException is AuthenticationException tls
            ? $"TLS failed ({tls.Message}); for a registry without TLS add ?insecure=1 to the remote"
            : (ex.InnerException?.Message ?? ex.Message).ReplaceLineEndings(" ");

    // Reads a small answer whole, refusing more than max bytes whatever the registry declares.
    private async Task<byte[]> ReadSmallAsync(HttpResponseMessage response, int max, string what, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength is > 0 and var declared && declared > max)
        {
            throw new RegistryException($"the registry {_setting.Host} sent {declared} bytes for {what}, more than the {max} allowed");
        }

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        await CopyAsync(body, buffer, max, null, what, cancellationToken, response.Content.Headers.ContentLength is { } length and >= 0 ? Math.Min(length, max) : max);
        return buffer.ToArray();
    }

    // Copies a response body, each read under the timeout (a stalled transfer fails) and the whole under the
    // deadline for its expected length (a trickling one fails too), at most max bytes, hashing what passes;
    // returns how many.
    private async Task<long> CopyAsync(
        Stream body, Stream destination, long max, System.Security.Cryptography.IncrementalHash? hash, string what, CancellationToken cancellationToken, long? expected = null)
    {
        var limit = Deadline(expected ?? max);
        using var whole = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        whole.CancelAfter(limit);
        var buffer = new byte[81920];
        var total = 0L;
        while (true)
        {
            int read;
            try
            {
                read = await TimedAsync(ct => body.ReadAsync(buffer, ct).AsTask(), $"with the rest of {what}", whole.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new RegistryException(
                    $"the registry {_setting.Host} did not send {what} within {limit.TotalSeconds:0.#} s (slower than {MinimumBytesPerSecond / 1024} KiB/s)") { IsUnreachable = true };
            }

            if (read == 0)
            {
                return total;
            }

            total += read;
            Interlocked.Add(ref _received, read);
            if (total > max)
            {
                throw new RegistryException($"the registry {_setting.Host} sent more than the {max} bytes {what} has");
            }

            hash?.AppendData(buffer, 0, read);
            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }
    }

    // A failed answer as one line: the status, and the registry's own error code and message when it sent them.
    private async Task EnsureAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var detail = "";
        try
        {
            var body = await ReadSmallAsync(response, 16 * 1024, "an error", cancellationToken);
            detail = RegistryErrors.Describe(body);
        }
        catch (RegistryException)
        {
            // The status says enough.
        }

        var status = (int)response.StatusCode;
        var hint = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => $"; log in (docker login {_setting.Host}) or set {RegistryCredentials.UserVariable} and {RegistryCredentials.PasswordVariable}",
            HttpStatusCode.Forbidden => "; the credential may not use this repository",
            _ => "",
        };
        throw new RegistryException($"the registry {_setting.Host} refused {what}: HTTP {status}{detail}{hint}", response.StatusCode);
    }
}
