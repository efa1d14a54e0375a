using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Harmont.Aot.Cache.Remote;

// Manifests by tag and by digest, tags, and deletion (for retention).
internal sealed partial class RegistryClient
{
    /// <summary>The most a manifest may hold: the distribution spec asks registries to accept at least 4 MiB.</summary>
    public const int MaxManifestBytes = 4 << 20;

    /// <summary>The manifest type the engine pushes images as; read like an OCI one (the same fields).</summary>
    public const string DockerManifestMediaType = "application/vnd.docker.distribution.manifest.v2+json";

    private const int MaxTagPages = 1000;

    /// <summary>Stores <paramref name="manifest"/> under <paramref name="reference"/> (a tag, or its own digest); returns its digest.</summary>
    public async Task<string> PutManifestAsync(string reference, byte[] manifest, string mediaType, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        CheckReference(reference);
        var digest = OciDigest.Of(manifest);
        using var response = await SendAsync(
            () =>
            {
                var content = new ByteArrayContent(manifest);
                content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
                return new HttpRequestMessage(HttpMethod.Put, ManifestPath(reference)) { Content = content };
            },
            PushScope,
            cancellationToken);
        await EnsureAsync(response, $"the manifest {reference}", cancellationToken);
        Interlocked.Add(ref _sent, manifest.Length);
        if (response.Headers.TryGetValues("Docker-Content-Digest", out var stored) && stored.FirstOrDefault() is { } said && said != digest)
        {
            throw new RegistryException($"the registry {_setting.Host} stored the manifest {reference} as {Short(said)}, not {Short(digest)}");
        }

        return digest;
    }

    /// <summary>
    /// The manifest <paramref name="reference"/> names, its digest and its bytes; null when the repository has none by
    /// that name. By digest, the content must hash to it; by tag, to the digest the registry says it has, if it says.
    /// </summary>
    public async Task<(OciManifest Manifest, string Digest, byte[] Content)?> GetManifestAsync(string reference, CancellationToken cancellationToken)
    {
        CheckReference(reference);
        using var response = await SendAsync(
            () =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, ManifestPath(reference));
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(OciManifest.MediaTypeName));
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(DockerManifestMediaType));
                return request;
            },
            PullScope,
            cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureAsync(response, $"the manifest {reference}", cancellationToken);
        var content = await ReadSmallAsync(response, MaxManifestBytes, $"the manifest {reference}", cancellationToken);
        var digest = OciDigest.Of(content);
        var expected = OciDigest.IsValid(reference) ? reference
            : response.Headers.TryGetValues("Docker-Content-Digest", out var said) ? said.FirstOrDefault() : null;
        if (expected is not null && expected != digest)
        {
            throw new RegistryException($"the manifest {reference} from {_setting.Host} is corrupt: its content hashes to {Short(digest)}, not {Short(expected)}");
        }

        OciManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(content, RegistryJsonContext.Default.OciManifest);
        }
        catch (JsonException ex)
        {
            throw new RegistryException($"the manifest {reference} from {_setting.Host} is not JSON ({ex.Message})");
        }

        return manifest is { SchemaVersion: 2, Config: not null, Layers: not null }
            ? (manifest, digest, content)
            : throw new RegistryException($"the manifest {reference} from {_setting.Host} is not an OCI image manifest");
    }

    /// <summary>The digest of the manifest <paramref name="reference"/> names (any manifest type), or null when there is none.</summary>
    public async Task<string?> ResolveManifestAsync(string reference, CancellationToken cancellationToken)
    {
        CheckReference(reference);
        using var response = await SendAsync(
            () =>
            {
                var request = new HttpRequestMessage(HttpMethod.Head, ManifestPath(reference));
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(OciManifest.MediaTypeName));
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(DockerManifestMediaType));
                return request;
            },
            PullScope,
            cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureAsync(response, $"the manifest {reference}", cancellationToken);
        return response.Headers.TryGetValues("Docker-Content-Digest", out var said) && said.FirstOrDefault() is { } digest && OciDigest.IsValid(digest)
            ? digest
            : throw new RegistryException($"the registry {_setting.Host} has the manifest {reference} but did not say its digest");
    }

    /// <summary>Deletes the manifest <paramref name="digest"/>; false when the registry does not allow deleting (or it is gone already).</summary>
    public async Task<bool> DeleteManifestAsync(string digest, CancellationToken cancellationToken)
    {
        CheckDigest(digest);
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, ManifestPath(digest)), PushScope, cancellationToken);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
        {
            return false;
        }

        await EnsureAsync(response, $"deleting the manifest {Short(digest)}", cancellationToken);
        return true;
    }

    /// <summary>Every tag in the repository, page by page; none when the repository does not exist yet.</summary>
    public async Task<IReadOnlyList<string>> ListTagsAsync(CancellationToken cancellationToken)
    {
        var tags = new List<string>();
        var next = $"v2/{Repository}/tags/list?n=1000";
        for (var page = 0; next is not null && page < MaxTagPages; page++)
        {
            var path = next;
            using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, path), PullScope, cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return tags;
            }

            await EnsureAsync(response, "the tag list", cancellationToken);
            var body = await ReadSmallAsync(response, MaxManifestBytes, "the tag list", cancellationToken);
            try
            {
                tags.AddRange(JsonSerializer.Deserialize(body, RegistryJsonContext.Default.TagList)?.Tags ?? []);
            }
            catch (JsonException ex)
            {
                throw new RegistryException($"the tag list from {_setting.Host} is not JSON ({ex.Message})");
            }

            next = NextPage(response);
        }

        return tags;
    }

    // RFC 5988: Link: </v2/name/tags/list?n=1000&last=x>; rel="next", kept on this registry.
    private static string? NextPage(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var links))
        {
            return null;
        }

        foreach (var link in links)
        {
            var open = link.IndexOf('<', StringComparison.Ordinal);
            var close = link.IndexOf('>', StringComparison.Ordinal);
            if (open >= 0 && close > open && link.Contains("rel=\"next\"", StringComparison.Ordinal))
            {
                var target = link[(open + 1)..close];
                return target.StartsWith("/v2/", StringComparison.Ordinal) ? target[1..] : null;
            }
        }

        return null;
    }

    private string ManifestPath(string reference) => $"v2/{Repository}/manifests/{reference}";

    // A tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127}) or a digest: never anything that changes the path.
    private static void CheckReference(string reference)
    {
        var tag = reference is { Length: > 0 and <= 128 } && (char.IsAsciiLetterOrDigit(reference[0]) || reference[0] == '_')
            && reference.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-');
        if (!tag && !OciDigest.IsValid(reference))
        {
            throw new RegistryException($"'{new string([.. (reference ?? "").Take(80).Where(c => !char.IsControl(c))])}' is not a tag or a digest");
        }
    }
}
