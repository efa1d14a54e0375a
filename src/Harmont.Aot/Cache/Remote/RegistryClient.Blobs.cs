using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Harmont.Aot.Cache.Remote;

// Blobs: HEAD, GET with the digest checked while streaming, and uploads (mount, monolithic PUT, chunked PATCH).
internal sealed partial class RegistryClient
{
    /// <summary>Whether the repository holds the blob <paramref name="digest"/>.</summary>
    public async Task<bool> HasBlobAsync(string digest, CancellationToken cancellationToken)
    {
        CheckDigest(digest);
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Head, BlobPath(digest)), PullScope, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        await EnsureAsync(response, $"a blob check (HEAD {Short(digest)})", cancellationToken);
        return true;
    }

    /// <summary>
    /// Streams the blob <paramref name="descriptor"/> names into <paramref name="destination"/>, hashing as it goes.
    /// More bytes than the descriptor's size, fewer, or content whose digest differs is a <see cref="RegistryException"/>:
    /// what was written must then be thrown away, never used.
    /// </summary>
    public async Task DownloadBlobAsync(OciDescriptor descriptor, Stream destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        ArgumentNullException.ThrowIfNull(destination);
        CheckDigest(descriptor.Digest);
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, BlobPath(descriptor.Digest)), PullScope, cancellationToken);
        await EnsureAsync(response, $"the blob {Short(descriptor.Digest)}", cancellationToken);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var length = await CopyAsync(body, destination, descriptor.Size, hash, $"the blob {Short(descriptor.Digest)}", cancellationToken);
        if (length != descriptor.Size)
        {
            throw new RegistryException($"the registry {_setting.Host} sent {length} bytes of the blob {Short(descriptor.Digest)}, which has {descriptor.Size}");
        }

        var actual = OciDigest.Prefix + Convert.ToHexStringLower(hash.GetHashAndReset());
        if (actual != descriptor.Digest)
        {
            throw new RegistryException($"the blob {Short(descriptor.Digest)} from {_setting.Host} is corrupt: its content hashes to {Short(actual)}");
        }
    }

    /// <summary>
    /// Makes sure the repository holds the blob: nothing is sent when it already does (HEAD first), it is mounted from
    /// <paramref name="mountFrom"/> where the registry allows, else uploaded in one PUT or, from <see cref="ChunkSize"/>
    /// up, in PATCH chunks. Returns the bytes uploaded (0 when the registry had it or mounted it).
    /// </summary>
    /// <param name="digest">The blob's digest, as the caller computed it.</param>
    /// <param name="size">Its length.</param>
    /// <param name="open">Opens the content from its start; called again for a retry after an auth challenge.</param>
    /// <param name="mountFrom">Another repository on the same registry that may hold it, or null.</param>
    /// <param name="cancellationToken">Stops the upload.</param>
    public async Task<long> PushBlobAsync(string digest, long size, Func<Stream> open, string? mountFrom, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(open);
        if (await HasBlobAsync(digest, cancellationToken))
        {
            return 0;
        }

        var scope = mountFrom is null ? PushScope : $"{PushScope} repository:{mountFrom}:pull";
        var start = mountFrom is null ? $"v2/{Repository}/blobs/uploads/" : $"v2/{Repository}/blobs/uploads/?mount={digest}&from={Uri.EscapeDataString(mountFrom)}";
        Uri location;
        using (var session = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, start) { Content = new ByteArrayContent([]) }, scope, cancellationToken))
        {
            if (session.StatusCode == HttpStatusCode.Created)
            {
                return 0; // Mounted: the registry linked the blob it holds in the other repository.
            }

            await EnsureAsync(session, $"an upload session for {Short(digest)}", cancellationToken);
            location = Location(session);
        }

        if (size < ChunkSize)
        {
            using var put = await SendAsync(() => Upload(HttpMethod.Put, WithDigest(location, digest), open(), 0, size), PushScope, cancellationToken);
            await EnsureStoredAsync(put, digest, cancellationToken);
            Interlocked.Add(ref _sent, size);
            return size;
        }

        for (var offset = 0L; offset < size; offset += ChunkSize)
        {
            var (from, length, at) = (offset, Math.Min(ChunkSize, size - offset), location);
            using var patch = await SendAsync(() => Upload(HttpMethod.Patch, at, open(), from, length), PushScope, cancellationToken);
            await EnsureAsync(patch, $"a chunk of {Short(digest)} (bytes {from}-{from + length - 1})", cancellationToken);
            location = Location(patch);
            Interlocked.Add(ref _sent, length);
        }

        using var close = await SendAsync(() => new HttpRequestMessage(HttpMethod.Put, WithDigest(location, digest)) { Content = new ByteArrayContent([]) }, PushScope, cancellationToken);
        await EnsureStoredAsync(close, digest, cancellationToken);
        return size;
    }

    private async Task EnsureStoredAsync(HttpResponseMessage response, string digest, CancellationToken cancellationToken)
    {
        await EnsureAsync(response, $"the upload of {Short(digest)}", cancellationToken);
        if (response.Headers.TryGetValues("Docker-Content-Digest", out var stored) && stored.FirstOrDefault() is { } said && said != digest)
        {
            throw new RegistryException($"the registry {_setting.Host} stored the upload of {Short(digest)} as {Short(said)}");
        }
    }

    // One request's body: length bytes of content from offset (a PATCH names them in Content-Range).
    private static HttpRequestMessage Upload(HttpMethod method, Uri target, Stream content, long offset, long length)
    {
        if (offset > 0)
        {
            content.Seek(offset, SeekOrigin.Begin);
        }

        var body = new StreamContent(new SliceStream(content, length));
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        body.Headers.ContentLength = length;
        var request = new HttpRequestMessage(method, target) { Content = body };
        if (method == HttpMethod.Patch)
        {
            request.Content.Headers.TryAddWithoutValidation("Content-Range", $"{offset}-{offset + length - 1}");
        }

        return request;
    }

    // Where the upload goes on: the registry's Location, which must stay on the registry (our token goes with it).
    private Uri Location(HttpResponseMessage response)
    {
        var location = response.Headers.Location
            ?? throw new RegistryException($"the registry {_setting.Host} opened an upload session without saying where (no Location)");
        var absolute = location.IsAbsoluteUri ? location : new Uri(_http.BaseAddress!, location);
        if (Uri.Compare(absolute, _http.BaseAddress, UriComponents.SchemeAndServer, UriFormat.SafeUnescaped, StringComparison.OrdinalIgnoreCase) != 0)
        {
            throw new RegistryException($"the registry {_setting.Host} sent an upload to another server ({absolute.Host}); it was not followed");
        }

        return absolute;
    }

    private static Uri WithDigest(Uri location, string digest) =>
        new UriBuilder(location) { Query = (location.Query.TrimStart('?') is { Length: > 0 } q ? q + "&" : "") + "digest=" + Uri.EscapeDataString(digest) }.Uri;

    private string BlobPath(string digest) => $"v2/{Repository}/blobs/{digest}";

    private static void CheckDigest(string digest)
    {
        if (!OciDigest.IsValid(digest))
        {
            throw new RegistryException($"'{new string([.. (digest ?? "").Take(80).Where(c => !char.IsControl(c))])}' is not a sha256 digest");
        }
    }

    internal static string Short(string digest) => digest.StartsWith(OciDigest.Prefix, StringComparison.Ordinal) ? digest[..Math.Min(digest.Length, 19)] : digest;

    /// <summary>A window on a stream: at most a given number of bytes from its position; disposing it disposes the stream.</summary>
    private sealed class SliceStream(Stream inner, long size) : ReadOnlyPipe(inner)
    {
        private long _read;

        private long Left => size - _read;

        public override long Length => size;

        public override long Position
        {
            get => _read;
            set => throw new NotSupportedException();
        }

        public override int Read(Span<byte> buffer)
        {
            var read = Inner.Read(buffer[..(int)Math.Min(buffer.Length, Left)]);
            _read += read;
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await Inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, Left)], cancellationToken);
            _read += read;
            return read;
        }
    }
}
