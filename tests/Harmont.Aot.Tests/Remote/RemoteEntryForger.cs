using System.Text;
using System.Text.Json;
using Harmont.Aot.Cache;
using Harmont.Aot.Cache.Remote;

namespace Harmont.Aot.Tests;

/// <summary>
/// Forges one shared entry on a real registry the way a hostile or broken writer could, chosen by a seed: its source
/// manifest (paths that climb or are absolute, names listed twice, bad modes and hashes, a cut record, a wrong
/// header, bytes that are no zstd), its metadata (another key, a broken layer chain, an unknown format, an image
/// that is not one), its manifest's types, its layer (another entry's), or its tag (made to share another entry's
/// manifest digest). Each forgery is one a reader can detect: a fetch of it must be a miss and one warning.
/// </summary>
internal sealed class RemoteEntryForger(RegistryClient client, Random random)
{
    /// <summary>The kinds of forgery, for the fuzzer to say which it made.</summary>
    public static readonly string[] Kinds =
        ["sources", "sources", "sources", "metadata-key", "metadata-layers", "metadata-format", "metadata-image", "media-type", "layer-swap", "tag-shares-digest"];

    /// <summary>Forges the entry <paramref name="key"/> (another entry of the same repository is <paramref name="donor"/>); returns what it did.</summary>
    public async Task<string> ForgeAsync(string key, string donor, CancellationToken cancellationToken)
    {
        var kind = Kinds[random.Next(Kinds.Length)];
        return $"{kind}: {await ForgeAsync(kind, key, donor, cancellationToken)}";
    }

    private async Task<string> ForgeAsync(string kind, string key, string donor, CancellationToken cancellationToken)
    {
        var found = (await client.GetManifestAsync(key, cancellationToken))!.Value;
        var (manifest, metadata) = await RemoteEntryReader.ReadAsync(client, key, found.Manifest, cancellationToken);
        var count = metadata.Layers.Count;
        switch (kind)
        {
            case "sources":
                var (bytes, what) = HostileSources();
                var blob = await UploadAsync(bytes, cancellationToken);
                var layers = manifest.Layers!.ToArray();
                layers[count + count - 1] = new OciDescriptor { MediaType = RemoteCache.SourcesMediaType, Digest = blob.Digest, Size = blob.Size };
                await PutAsync(key, manifest with { Layers = layers }, cancellationToken);
                return what;
            case "metadata-key":
                return await WithMetadataAsync(key, manifest, metadata with { Key = donor }, "metadata names another key", cancellationToken);
            case "metadata-layers":
                IReadOnlyList<string> chain = random.Next(3) switch
                {
                    0 => [.. metadata.Layers, donor],
                    1 => [donor, .. metadata.Layers.Skip(1)],
                    _ => [.. metadata.Layers, .. metadata.Layers],
                };
                return await WithMetadataAsync(key, manifest, metadata with { Layers = chain }, $"layer chain [{string.Join(", ", chain.Select(k => k[..8]))}]", cancellationToken);
            case "metadata-format":
                var format = random.Next(2) == 0 ? 0 : 99;
                return await WithMetadataAsync(key, manifest, metadata with { Format = format }, $"format {format}", cancellationToken);
            case "metadata-image":
                // A host entry naming an image: a host run has no engine to check it with, so it may never be a hit.
                return await WithMetadataAsync(
                    key, manifest, metadata with { Image = OciDigest.Prefix + Hex(64), ImageDigest = OciDigest.Prefix + Hex(64) }, "an image on a host entry", cancellationToken);
            case "media-type":
                var forged = random.Next(2) == 0
                    ? manifest with { ArtifactType = "application/vnd.example.other" }
                    : manifest with { Layers = [.. manifest.Layers!.Select((l, i) => i == count - 1 ? l with { MediaType = "application/vnd.oci.image.layer.v1.tar+gzip" } : l)] };
                await PutAsync(key, forged, cancellationToken);
                return "media type";
            case "layer-swap":
                var other = (await client.GetManifestAsync(donor, cancellationToken))!.Value.Manifest;
                var otherCount = other.Layers!.Count / 2;
                await PutAsync(key, manifest with { Layers = [.. manifest.Layers!.Select((l, i) => i == count - 1 ? other.Layers[otherCount - 1] : l)] }, cancellationToken);
                return "another entry's layer";
            default:
                var shared = (await client.GetManifestAsync(donor, cancellationToken))!.Value;
                await client.PutManifestAsync(key, shared.Content, OciManifest.MediaTypeName, cancellationToken);
                return "its tag shares another entry's manifest digest";
        }
    }

    // A source manifest a reader must refuse: the header right or wrong, valid records around one bad one.
    private (byte[] Bytes, string What) HostileSources()
    {
        var hash = Hex(64);
        string[] bad =
        [
            "../../x", "/etc/passwd", "a/../../b", "", "./a", "a//b", "a/", "..", "dup", "\u0000nul",
        ];
        var body = new StringBuilder("harmont-sources 2\n");
        if (random.Next(2) == 0)
        {
            body.Append(CultureInfo($"100644 {hash} input.txt\0"));
        }

        var choice = random.Next(bad.Length + 5);
        string what;
        if (choice < bad.Length)
        {
            var name = bad[choice];
            body.Append(CultureInfo($"100644 {hash} {name}\0"));
            if (name == "dup")
            {
                body.Append(CultureInfo($"100644 {hash} dup\0"));
            }

            what = $"path '{name.Replace("\0", "\\0", StringComparison.Ordinal)}'";
        }
        else
        {
            (string record, what) = (choice - bad.Length) switch
            {
                0 => ($"100999 {hash} a.txt\0", "mode not octal"),
                1 => ($"100644 {hash.ToUpperInvariant()} a.txt\0", "hash not lowercase"),
                2 => ($"100644 {hash[..10]} a.txt\0", "short hash"),
                3 => ($"100644 {hash} a.txt", "record not NUL-terminated"),
                _ => ("", "wrong header"),
            };
            body.Append(record);
            if (what == "wrong header")
            {
                body.Replace("harmont-sources 2", "harmont-sources 9");
            }
        }

        var plain = Encoding.UTF8.GetBytes(body.ToString());
        if (random.Next(6) == 0)
        {
            return (plain, what + ", not compressed");
        }

        using var packed = new MemoryStream();
        using (var compress = CacheBundleFormat.Compress(packed))
        {
            compress.Write(plain);
        }

        return (packed.ToArray(), what);
    }

    private static string CultureInfo(FormattableString text) => text.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private string Hex(int length) => Convert.ToHexStringLower(RandomBytes(length / 2));

    private byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    private async Task<string> WithMetadataAsync(string key, OciManifest manifest, RemoteEntryMetadata metadata, string what, CancellationToken cancellationToken)
    {
        var config = await UploadAsync(JsonSerializer.SerializeToUtf8Bytes(metadata, RegistryJsonContext.Default.RemoteEntryMetadata), cancellationToken);
        await PutAsync(key, manifest with { Config = manifest.Config! with { Digest = config.Digest, Size = config.Size } }, cancellationToken);
        return what;
    }

    private async Task<(string Digest, long Size)> UploadAsync(byte[] bytes, CancellationToken cancellationToken)
    {
        await client.PushBlobAsync(OciDigest.Of(bytes), bytes.Length, () => new MemoryStream(bytes), null, cancellationToken);
        return (OciDigest.Of(bytes), bytes.Length);
    }

    private Task<string> PutAsync(string key, OciManifest manifest, CancellationToken cancellationToken) =>
        client.PutManifestAsync(key, JsonSerializer.SerializeToUtf8Bytes(manifest, RegistryJsonContext.Default.OciManifest), OciManifest.MediaTypeName, cancellationToken);
}
