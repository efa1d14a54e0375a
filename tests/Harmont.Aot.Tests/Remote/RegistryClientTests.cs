using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Harmont.Aot.Cache.Remote;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

/// <summary>The distribution-spec client against distribution's own registry server.</summary>
[NotInParallel(nameof(RegistryClientTests))]
public sealed class RegistryClientTests
{
    private static CancellationToken Cancel => TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None;

    [Test]
    public async Task Blob_round_trips_and_a_blob_the_registry_has_is_not_sent_again(CancellationToken cancellationToken)
    {
        await using var registry = await RegistryServer.StartAsync();
        using var client = Client(registry, "team/blobs");
        var content = RandomNumberGenerator.GetBytes(100_000);
        var digest = OciDigest.Of(content);

        await Assert.That(await client.HasBlobAsync(digest, cancellationToken)).IsFalse();
        await Assert.That(await client.PushBlobAsync(digest, content.Length, () => new MemoryStream(content), null, cancellationToken))
            .IsEqualTo(content.Length);
        await Assert.That(await client.HasBlobAsync(digest, cancellationToken)).IsTrue();
        await Assert.That(await client.PushBlobAsync(digest, content.Length, () => throw new InvalidOperationException("opened a blob the registry has"), null, cancellationToken))
            .IsEqualTo(0);

        await Assert.That(await DownloadAsync(client, digest, content.Length)).IsEquivalentTo(content, CollectionOrdering.Matching);
        await Assert.That(client.BytesSent).IsEqualTo(content.Length);
        await Assert.That(client.BytesReceived).IsEqualTo(content.Length);
    }

    [Test]
    public async Task Blob_at_least_a_chunk_long_uploads_in_chunks(CancellationToken cancellationToken)
    {
        await using var registry = await RegistryServer.StartAsync();
        using var client = new RegistryClient(RemoteCacheSetting.Parse(registry.Remote("team/chunks")), new RegistryCredentials(_ => null)) { ChunkSize = 1 << 20 };
        var content = RandomNumberGenerator.GetBytes((3 << 20) + 12345);
        var digest = OciDigest.Of(content);

        await client.PushBlobAsync(digest, content.Length, () => new MemoryStream(content), null, cancellationToken);

        await Assert.That(await DownloadAsync(client, digest, content.Length)).IsEquivalentTo(content, CollectionOrdering.Matching);
        await Assert.That(await registry.ReadLogAsync()).Contains("PATCH", StringComparison.Ordinal);
    }

    [Test]
    public async Task Blob_corrupted_on_the_registry_disk_is_refused_by_its_digest(CancellationToken cancellationToken)
    {
        await using var registry = await RegistryServer.StartAsync();
        using var client = Client(registry, "team/corrupt");
        var content = RandomNumberGenerator.GetBytes(50_000);
        var digest = OciDigest.Of(content);
        await client.PushBlobAsync(digest, content.Length, () => new MemoryStream(content), null, cancellationToken);

        var damaged = (byte[])content.Clone();
        damaged[25_000] ^= 0xff;
        await File.WriteAllBytesAsync(registry.BlobFile(digest), damaged, cancellationToken);

        var error = (await Assert.That(async () => await DownloadAsync(client, digest, content.Length)).ThrowsExactly<RegistryException>())!;
        await Assert.That(error.Message).Contains("corrupt", StringComparison.Ordinal);
        await Assert.That(error.IsUnreachable || error.IsDenied).IsFalse();
    }

    [Test]
    public async Task Blob_longer_than_its_descriptor_says_is_refused(CancellationToken cancellationToken)
    {
        await using var registry = await RegistryServer.StartAsync();
        using var client = Client(registry, "team/long");
        var content = RandomNumberGenerator.GetBytes(5_000);
        var digest = OciDigest.Of(content);
        await client.PushBlobAsync(digest, content.Length, () => new MemoryStream(content), null, cancellationToken);

        var error = (await Assert.That(async () => await DownloadAsync(client, digest, content.Length - 1)).ThrowsExactly<RegistryException>())!;
        await Assert.That(error.Message).Contains("more than", StringComparison.Ordinal);
    }

    [Test]
    public async Task Manifest_is_stored_and_read_by_tag_and_by_digest_listed_and_deleted(CancellationToken cancellationToken)
    {
        await using var registry = await RegistryServer.StartAsync();
        using var client = Client(registry, "team/manifests");
        var config = Encoding.UTF8.GetBytes("{\"hello\":\"config\"}");
        var layer = RandomNumberGenerator.GetBytes(2_000);
        await client.PushBlobAsync(OciDigest.Of(config), config.Length, () => new MemoryStream(config), null, cancellationToken);
        await client.PushBlobAsync(OciDigest.Of(layer), layer.Length, () => new MemoryStream(layer), null, cancellationToken);
        var manifest = new OciManifest
        {
            ArtifactType = RemoteEntryMetadata.ArtifactType,
            Config = new OciDescriptor { MediaType = RemoteEntryMetadata.MediaType, Digest = OciDigest.Of(config), Size = config.Length },
            Layers = [new OciDescriptor { MediaType = "application/vnd.harmont.test", Digest = OciDigest.Of(layer), Size = layer.Length }],
        };
        var bytes = JsonSerializer.SerializeToUtf8Bytes(manifest, RegistryJsonContext.Default.OciManifest);

        var digest = await client.PutManifestAsync("entry-1", bytes, OciManifest.MediaTypeName, cancellationToken);

        var byTag = await client.GetManifestAsync("entry-1", cancellationToken);
        var byDigest = await client.GetManifestAsync(digest, cancellationToken);
        await Assert.That(byTag!.Value.Digest).IsEqualTo(digest);
        await Assert.That(byDigest!.Value.Content).IsEquivalentTo(bytes, CollectionOrdering.Matching);
        await Assert.That(byTag.Value.Manifest.ArtifactType).IsEqualTo(RemoteEntryMetadata.ArtifactType);
        await Assert.That((await Assert.That(byTag.Value.Manifest.Layers!).HasSingleItem()).Digest).IsEqualTo(OciDigest.Of(layer));
        await Assert.That(await client.ListTagsAsync(cancellationToken)).Contains("entry-1");
        await Assert.That(await client.GetManifestAsync("no-such-tag", cancellationToken)).IsNull();

        await Assert.That(await client.DeleteManifestAsync(digest, cancellationToken)).IsTrue();
        await Assert.That(await client.GetManifestAsync(digest, cancellationToken)).IsNull();
    }

    [Test]
    public async Task Blob_is_mounted_from_another_repository_instead_of_uploaded(CancellationToken cancellationToken)
    {
        await using var registry = await RegistryServer.StartAsync();
        using var first = Client(registry, "team/first");
        using var second = Client(registry, "team/second");
        var content = RandomNumberGenerator.GetBytes(30_000);
        var digest = OciDigest.Of(content);
        await first.PushBlobAsync(digest, content.Length, () => new MemoryStream(content), null, cancellationToken);

        var sent = await second.PushBlobAsync(digest, content.Length, () => throw new InvalidOperationException("uploaded a blob it could mount"), "team/first", cancellationToken);

        await Assert.That(sent).IsEqualTo(0);
        await Assert.That(await second.HasBlobAsync(digest, cancellationToken)).IsTrue();
    }

    [Test]
    public async Task Tag_list_of_a_repository_not_yet_pushed_is_empty(CancellationToken cancellationToken)
    {
        await using var registry = await RegistryServer.StartAsync();
        using var client = Client(registry, "team/nothing");

        await Assert.That(await client.ListTagsAsync(cancellationToken)).IsEmpty();
    }

    [Test]
    public async Task Registry_that_is_down_is_a_registry_error_naming_it(CancellationToken cancellationToken)
    {
        await using var registry = await RegistryServer.StartAsync();
        using var client = Client(registry, "team/down");
        await registry.StopAsync();

        var error = (await Assert.That(async () => await client.HasBlobAsync(OciDigest.Of([1]), cancellationToken)).ThrowsExactly<RegistryException>())!;

        await Assert.That(error.Message).Contains(registry.Host, StringComparison.Ordinal);
        await Assert.That(error.IsUnreachable).IsTrue();
    }

    [Test]
    public async Task Registry_that_does_not_answer_times_out(CancellationToken cancellationToken)
    {
        await using var registry = await RegistryServer.StartAsync();
        using var client = Client(registry, "team/frozen", "?timeout=1s");
        registry.Freeze(true);
        try
        {
            var error = (await Assert.That(async () => await client.HasBlobAsync(OciDigest.Of([1]), cancellationToken)).ThrowsExactly<RegistryException>())!;
            await Assert.That(error.Message).Contains("did not answer", StringComparison.Ordinal);
            await Assert.That(error.IsUnreachable).IsTrue();
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
