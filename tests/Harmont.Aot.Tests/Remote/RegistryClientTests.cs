using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Harmont.Aot.Cache.Remote;

namespace Harmont.Aot.Tests;

/// <summary>The distribution-spec client against distribution's own registry server.</summary>
public sealed class RegistryClientTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Blob_round_trips_and_a_blob_the_registry_has_is_not_sent_again()
    {
        await using var registry = await RegistryServer.StartAsync();
        using var client = Client(registry, "team/blobs");
        var content = RandomNumberGenerator.GetBytes(100_000);
        var digest = OciDigest.Of(content);

        Assert.False(await client.HasBlobAsync(digest, Cancel));
        Assert.Equal(content.Length, await client.PushBlobAsync(digest, content.Length, () => new MemoryStream(content), null, Cancel));
        Assert.True(await client.HasBlobAsync(digest, Cancel));
        Assert.Equal(0, await client.PushBlobAsync(digest, content.Length, () => throw new InvalidOperationException("opened a blob the registry has"), null, Cancel));

        Assert.Equal(content, await DownloadAsync(client, digest, content.Length));
        Assert.Equal(content.Length, client.BytesSent);
        Assert.Equal(content.Length, client.BytesReceived);
    }

    [Fact]
    public async Task Blob_at_least_a_chunk_long_uploads_in_chunks()
    {
        await using var registry = await RegistryServer.StartAsync();
        using var client = new RegistryClient(RemoteCacheSetting.Parse(registry.Remote("team/chunks")), new RegistryCredentials(_ => null)) { ChunkSize = 1 << 20 };
        var content = RandomNumberGenerator.GetBytes((3 << 20) + 12345);
        var digest = OciDigest.Of(content);

        await client.PushBlobAsync(digest, content.Length, () => new MemoryStream(content), null, Cancel);

        Assert.Equal(content, await DownloadAsync(client, digest, content.Length));
        Assert.Contains("PATCH", await registry.ReadLogAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Blob_corrupted_on_the_registry_disk_is_refused_by_its_digest()
    {
        await using var registry = await RegistryServer.StartAsync();
        using var client = Client(registry, "team/corrupt");
        var content = RandomNumberGenerator.GetBytes(50_000);
        var digest = OciDigest.Of(content);
        await client.PushBlobAsync(digest, content.Length, () => new MemoryStream(content), null, Cancel);

        var damaged = (byte[])content.Clone();
        damaged[25_000] ^= 0xff;
        await File.WriteAllBytesAsync(registry.BlobFile(digest), damaged, Cancel);

        var error = await Assert.ThrowsAsync<RegistryException>(() => DownloadAsync(client, digest, content.Length));
        Assert.Contains("corrupt", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsUnreachable || error.IsDenied);
    }

    [Fact]
    public async Task Blob_longer_than_its_descriptor_says_is_refused()
    {
        await using var registry = await RegistryServer.StartAsync();
        using var client = Client(registry, "team/long");
        var content = RandomNumberGenerator.GetBytes(5_000);
        var digest = OciDigest.Of(content);
        await client.PushBlobAsync(digest, content.Length, () => new MemoryStream(content), null, Cancel);

        var error = await Assert.ThrowsAsync<RegistryException>(() => DownloadAsync(client, digest, content.Length - 1));
        Assert.Contains("more than", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Manifest_is_stored_and_read_by_tag_and_by_digest_listed_and_deleted()
    {
        await using var registry = await RegistryServer.StartAsync();
        using var client = Client(registry, "team/manifests");
        var config = Encoding.UTF8.GetBytes("{\"hello\":\"config\"}");
        var layer = RandomNumberGenerator.GetBytes(2_000);
        await client.PushBlobAsync(OciDigest.Of(config), config.Length, () => new MemoryStream(config), null, Cancel);
        await client.PushBlobAsync(OciDigest.Of(layer), layer.Length, () => new MemoryStream(layer), null, Cancel);
        var manifest = new OciManifest
        {
            ArtifactType = RemoteEntryMetadata.ArtifactType,
            Config = new OciDescriptor { MediaType = RemoteEntryMetadata.MediaType, Digest = OciDigest.Of(config), Size = config.Length },
            Layers = [new OciDescriptor { MediaType = "application/vnd.harmont.test", Digest = OciDigest.Of(layer), Size = layer.Length }],
        };
        var bytes = JsonSerializer.SerializeToUtf8Bytes(manifest, RegistryJsonContext.Default.OciManifest);

        var digest = await client.PutManifestAsync("entry-1", bytes, OciManifest.MediaTypeName, Cancel);

        var byTag = await client.GetManifestAsync("entry-1", Cancel);
        var byDigest = await client.GetManifestAsync(digest, Cancel);
        Assert.Equal(digest, byTag!.Value.Digest);
        Assert.Equal(bytes, byDigest!.Value.Content);
        Assert.Equal(RemoteEntryMetadata.ArtifactType, byTag.Value.Manifest.ArtifactType);
        Assert.Equal(OciDigest.Of(layer), Assert.Single(byTag.Value.Manifest.Layers!).Digest);
        Assert.Contains("entry-1", await client.ListTagsAsync(Cancel));
        Assert.Null(await client.GetManifestAsync("no-such-tag", Cancel));

        Assert.True(await client.DeleteManifestAsync(digest, Cancel));
        Assert.Null(await client.GetManifestAsync(digest, Cancel));
    }

    [Fact]
    public async Task Blob_is_mounted_from_another_repository_instead_of_uploaded()
    {
        await using var registry = await RegistryServer.StartAsync();
        using var first = Client(registry, "team/first");
        using var second = Client(registry, "team/second");
        var content = RandomNumberGenerator.GetBytes(30_000);
        var digest = OciDigest.Of(content);
        await first.PushBlobAsync(digest, content.Length, () => new MemoryStream(content), null, Cancel);

        var sent = await second.PushBlobAsync(digest, content.Length, () => throw new InvalidOperationException("uploaded a blob it could mount"), "team/first", Cancel);

        Assert.Equal(0, sent);
        Assert.True(await second.HasBlobAsync(digest, Cancel));
    }

    [Fact]
    public async Task Tag_list_of_a_repository_not_yet_pushed_is_empty()
    {
        await using var registry = await RegistryServer.StartAsync();
        using var client = Client(registry, "team/nothing");

        Assert.Empty(await client.ListTagsAsync(Cancel));
    }

    [Fact]
    public async Task Registry_that_is_down_is_a_registry_error_naming_it()
    {
        await using var registry = await RegistryServer.StartAsync();
        using var client = Client(registry, "team/down");
        await registry.StopAsync();

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.HasBlobAsync(OciDigest.Of([1]), Cancel));

        Assert.Contains(registry.Host, error.Message, StringComparison.Ordinal);
        Assert.True(error.IsUnreachable);
    }

    [Fact]
    public async Task Registry_that_does_not_answer_times_out()
    {
        await using var registry = await RegistryServer.StartAsync();
        using var client = Client(registry, "team/frozen", "?timeout=1s");
        registry.Freeze(true);
        try
        {
            var error = await Assert.ThrowsAsync<RegistryException>(() => client.HasBlobAsync(OciDigest.Of([1]), Cancel));
            Assert.Contains("did not answer", error.Message, StringComparison.Ordinal);
            Assert.True(error.IsUnreachable);
        }
        finally
        {
            registry.Freeze(false);
        }
    }

    internal static RegistryClient Client(RegistryServer registry, string repository, string query = "", Func<string, string?>? env = null) =>
        new(RemoteCacheSetting.Parse(registry.Remote(repository, query)), new RegistryCredentials(env ?? (_ => null)));

    internal static async Task<byte[]> DownloadAsync(RegistryClient client, string digest, long size)
    {
        using var buffer = new MemoryStream();
        await client.DownloadBlobAsync(new OciDescriptor { MediaType = "application/octet-stream", Digest = digest, Size = size }, buffer, Cancel);
        return buffer.ToArray();
    }
}
