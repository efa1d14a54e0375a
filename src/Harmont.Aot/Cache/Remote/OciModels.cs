using System.Security.Cryptography;
using System.Text.Json.Serialization;

namespace Harmont.Aot.Cache.Remote;

/// <summary>An OCI content descriptor: what a manifest says of a blob.</summary>
internal sealed record OciDescriptor
{
    [JsonPropertyName("mediaType")]
    public required string MediaType { get; init; }

    [JsonPropertyName("digest")]
    public required string Digest { get; init; }

    [JsonPropertyName("size")]
    public long Size { get; init; }

    [JsonPropertyName("annotations")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }
}

/// <summary>An OCI image manifest; the cache's entries are artifacts in this shape (OCI 1.1 <c>artifactType</c>).</summary>
internal sealed record OciManifest
{
    public const string MediaTypeName = "application/vnd.oci.image.manifest.v1+json";

    [JsonPropertyName("schemaVersion")]
    public int SchemaVersion { get; init; } = 2;

    [JsonPropertyName("mediaType")]
    public string? MediaType { get; init; } = MediaTypeName;

    [JsonPropertyName("artifactType")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ArtifactType { get; init; }

    [JsonPropertyName("config")]
    public OciDescriptor? Config { get; init; }

    [JsonPropertyName("layers")]
    public IReadOnlyList<OciDescriptor>? Layers { get; init; }

    [JsonPropertyName("annotations")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }
}

/// <summary>A token endpoint's answer (Docker's token spec: <c>token</c>, or OAuth2's <c>access_token</c>).</summary>
internal sealed record TokenReply
{
    [JsonPropertyName("token")]
    public string? Token { get; init; }

    [JsonPropertyName("access_token")]
    public string? AccessToken { get; init; }

    [JsonPropertyName("expires_in")]
    public int? ExpiresIn { get; init; }
}

/// <summary>The tags list endpoint's answer.</summary>
internal sealed record TagList
{
    [JsonPropertyName("name")]
    public string? Name { get; init; }

    [JsonPropertyName("tags")]
    public IReadOnlyList<string>? Tags { get; init; }
}

/// <summary>The parts of Docker's <c>config.json</c> that say where credentials are.</summary>
internal sealed record DockerConfigFile
{
    [JsonPropertyName("auths")]
    public Dictionary<string, DockerConfigAuth>? Auths { get; init; }

    [JsonPropertyName("credHelpers")]
    public Dictionary<string, string>? CredHelpers { get; init; }

    [JsonPropertyName("credsStore")]
    public string? CredsStore { get; init; }
}

/// <summary>One <c>auths</c> entry of Docker's <c>config.json</c>.</summary>
internal sealed record DockerConfigAuth
{
    [JsonPropertyName("auth")]
    public string? Auth { get; init; }

    [JsonPropertyName("username")]
    public string? Username { get; init; }

    [JsonPropertyName("password")]
    public string? Password { get; init; }

    [JsonPropertyName("identitytoken")]
    public string? IdentityToken { get; init; }
}

/// <summary>What <c>docker-credential-NAME get</c> prints.</summary>
internal sealed record CredentialHelperReply
{
    [JsonPropertyName("Username")]
    public string? Username { get; init; }

    [JsonPropertyName("Secret")]
    public string? Secret { get; init; }
}

/// <summary>Source-generated JSON for the registry protocol; the runtime is AOT, so no reflection.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(OciManifest))]
[JsonSerializable(typeof(TokenReply))]
[JsonSerializable(typeof(TagList))]
[JsonSerializable(typeof(DockerConfigFile))]
[JsonSerializable(typeof(CredentialHelperReply))]
[JsonSerializable(typeof(RemoteEntryMetadata))]
[JsonSerializable(typeof(RegistryErrors))]
internal sealed partial class RegistryJsonContext : JsonSerializerContext;

/// <summary>Content digests as the distribution spec writes them: <c>sha256:</c> and 64 lowercase hex digits.</summary>
internal static class OciDigest
{
    public const string Prefix = "sha256:";

    public static string Of(ReadOnlySpan<byte> content) => Prefix + Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>Whether <paramref name="digest"/> is a sha256 digest this client can check (the only kind it accepts).</summary>
    public static bool IsValid(string? digest) =>
        digest is { Length: 71 } && digest.StartsWith(Prefix, StringComparison.Ordinal) && digest[Prefix.Length..].All(char.IsAsciiHexDigitLower);
}

/// <summary>The distribution spec's error body, <c>{"errors":[{"code","message"}]}</c>.</summary>
internal sealed record RegistryErrors
{
    [JsonPropertyName("errors")]
    public IReadOnlyList<RegistryError>? Errors { get; init; }

    /// <summary>The registry's own words for a failure, as <c>": CODE message"</c>, or nothing when the body holds none.</summary>
    public static string Describe(byte[] body)
    {
        try
        {
            var errors = System.Text.Json.JsonSerializer.Deserialize(body, RegistryJsonContext.Default.RegistryErrors)?.Errors;
            var text = errors is { Count: > 0 }
                ? string.Join("; ", errors.Take(3).Select(e => $"{e.Code} {e.Message}".Trim()))
                : "";
            text = new string([.. text.Where(c => !char.IsControl(c)).Take(300)]);
            return text.Length == 0 ? "" : $": {text}";
        }
        catch (System.Text.Json.JsonException)
        {
            return "";
        }
    }
}

/// <summary>One error of <see cref="RegistryErrors"/>.</summary>
internal sealed record RegistryError
{
    [JsonPropertyName("code")]
    public string? Code { get; init; }

    [JsonPropertyName("message")]
    public string? Message { get; init; }
}
