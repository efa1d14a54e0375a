using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Harmont.Aot.Runners.Docker;

// Pushing and pulling images to and from a registry the caller names, with its credential (X-Registry-Auth).
internal sealed partial class DockerEngineClient
{
    /// <summary>Pushes <paramref name="repository"/>:<paramref name="tag"/>; returns the manifest digest the registry stored and the bytes sent.</summary>
    /// <param name="repository">The image's name on the registry, host included (<c>host:port/team/cache</c>).</param>
    /// <param name="tag">The tag to push.</param>
    /// <param name="registryAuth">Docker's X-Registry-Auth value (see <see cref="RegistryAuth"/>), or null for none.</param>
    /// <param name="cancellationToken">Stops the push.</param>
    public async Task<(string Digest, long Bytes)> PushImageAsync(string repository, string tag, string? registryAuth, CancellationToken cancellationToken)
    {
        var action = $"pushing image '{repository}:{tag}'";
        using var response = await SendWithAuthAsync(HttpMethod.Post, $"/images/{PathName(repository)}/push?tag={Q(tag)}", registryAuth, cancellationToken);
        await EnsureSuccessAsync(response, action, cancellationToken);
        var (digest, bytes) = await ReadTransferAsync(response, action, "Pushing", cancellationToken);
        return digest is not null ? (digest, bytes) : throw new DockerEngineException($"{action}: the engine did not say which digest the registry stored.");
    }

    /// <summary>Pulls <paramref name="repository"/>@<paramref name="digest"/>; returns the bytes received.</summary>
    public async Task<long> PullImageByDigestAsync(string repository, string digest, string? registryAuth, CancellationToken cancellationToken)
    {
        var action = $"pulling image '{repository}@{digest}'";
        using var response = await SendWithAuthAsync(HttpMethod.Post, $"/images/create?fromImage={Q(repository)}&tag={Q(digest)}", registryAuth, cancellationToken);
        await EnsureSuccessAsync(response, action, cancellationToken);
        return (await ReadTransferAsync(response, action, "Downloading", cancellationToken)).Bytes;
    }

    /// <summary>Docker's X-Registry-Auth header value for a user and password (URL-safe base64 of its JSON, padded as the engine reads it).</summary>
    /// <remarks>An identity token (Docker's <c>&lt;token&gt;</c> user) goes as <c>identitytoken</c>, which the engine trades at the registry's realm.</remarks>
    public static string RegistryAuth(string username, string password, string serverAddress)
    {
        var config = username == "<token>"
            ? new RegistryAuthConfig { IdentityToken = password, ServerAddress = serverAddress }
            : new RegistryAuthConfig { Username = username, Password = password, ServerAddress = serverAddress };
        var json = JsonSerializer.SerializeToUtf8Bytes(config, DockerRegistryJsonContext.Default.RegistryAuthConfig);
        return Convert.ToBase64String(json).Replace('+', '-').Replace('/', '_');
    }

    private async Task<HttpResponseMessage> SendWithAuthAsync(HttpMethod method, string pathAndQuery, string? registryAuth, CancellationToken cancellationToken)
    {
        var prefix = await GetPathPrefixAsync(cancellationToken);
        using var request = new HttpRequestMessage(method, new Uri(prefix + pathAndQuery, UriKind.Relative));
        request.Headers.TryAddWithoutValidation("X-Registry-Auth", registryAuth ?? "e30="); // "{}": anonymous
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new DockerEngineException($"cannot reach the Docker engine at {Endpoint}: {ex.Message}", ex);
        }
    }

    // The JSON-lines progress of a push or pull: failures arrive inside it with HTTP 200; the last total of each
    // layer's transfer lines is what crossed the wire, and a push ends with the stored digest in its aux record.
    private static async Task<(string? Digest, long Bytes)> ReadTransferAsync(HttpResponseMessage response, string action, string transferStatus, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var totals = new Dictionary<string, long>(StringComparer.Ordinal);
        string? digest = null;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            TransferMessage? message;
            try
            {
                message = string.IsNullOrWhiteSpace(line) ? null : JsonSerializer.Deserialize(line, DockerRegistryJsonContext.Default.TransferMessage);
            }
            catch (JsonException)
            {
                continue;
            }

            if ((message?.Error ?? message?.ErrorDetail?.Message) is { } error)
            {
                throw new DockerEngineException(null, error, $"{action} failed: {error}");
            }

            if (message?.Aux?.Digest is { } said)
            {
                digest = said;
            }

            if (message is { Id: { } id, Status: { } status, ProgressDetail.Total: > 0 } && status == transferStatus)
            {
                totals[id] = message.ProgressDetail.Total;
            }
        }

        return (digest, totals.Values.Sum());
    }

    /// <summary>One line of a push or pull's progress.</summary>
    internal sealed record TransferMessage
    {
        [JsonPropertyName("id")] public string? Id { get; init; }
        [JsonPropertyName("status")] public string? Status { get; init; }
        [JsonPropertyName("progressDetail")] public TransferProgress? ProgressDetail { get; init; }
        [JsonPropertyName("aux")] public TransferAux? Aux { get; init; }
        [JsonPropertyName("error")] public string? Error { get; init; }
        [JsonPropertyName("errorDetail")] public ErrorResponse? ErrorDetail { get; init; }
    }

    /// <summary>A layer's bytes so far and in all.</summary>
    internal sealed record TransferProgress
    {
        [JsonPropertyName("current")] public long Current { get; init; }
        [JsonPropertyName("total")] public long Total { get; init; }
    }

    /// <summary>What a push says at its end.</summary>
    internal sealed record TransferAux
    {
        [JsonPropertyName("Digest")] public string? Digest { get; init; }
        [JsonPropertyName("Size")] public long Size { get; init; }
    }

    /// <summary>The credential the engine hands the registry.</summary>
    internal sealed record RegistryAuthConfig
    {
        [JsonPropertyName("username")] public string? Username { get; init; }
        [JsonPropertyName("password")] public string? Password { get; init; }
        [JsonPropertyName("serveraddress")] public string? ServerAddress { get; init; }
        [JsonPropertyName("identitytoken")] public string? IdentityToken { get; init; }
    }
}

/// <summary>Source-generated JSON for image pushes and pulls.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DockerEngineClient.TransferMessage))]
[JsonSerializable(typeof(DockerEngineClient.RegistryAuthConfig))]
internal sealed partial class DockerRegistryJsonContext : JsonSerializerContext;
