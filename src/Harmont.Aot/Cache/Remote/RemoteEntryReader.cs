using System.Text.Json;

namespace Harmont.Aot.Cache.Remote;

/// <summary>Reads a shared entry's manifest and metadata as the hostile input they are: every field is checked before use.</summary>
internal static class RemoteEntryReader
{
    /// <summary>The deepest chain of layers an entry may have (StepCache's bound: one overlay mount's worth).</summary>
    public const int MaxLayers = 64;

    private const int MaxMetadataBytes = 64 * 1024;

    /// <summary>The manifest of the entry <paramref name="key"/> and its metadata blob, or a <see cref="RegistryException"/> saying what is wrong.</summary>
    public static async Task<(OciManifest Manifest, RemoteEntryMetadata Metadata)> ReadAsync(RegistryClient client, string key, OciManifest manifest, CancellationToken cancellationToken)
    {
        RegistryException Bad(string why) => new($"the registry's entry {key[..16]} {why}");
        if (manifest.ArtifactType != RemoteEntryMetadata.ArtifactType || manifest.Config is not { MediaType: RemoteEntryMetadata.MediaType } config)
        {
            throw Bad("is not a Harmont cache entry");
        }

        if (config.Size is < 0 or > MaxMetadataBytes)
        {
            throw Bad($"has {config.Size} bytes of metadata, more than {MaxMetadataBytes}");
        }

        using var buffer = new MemoryStream();
        await client.DownloadBlobAsync(config, buffer, cancellationToken);
        RemoteEntryMetadata? metadata;
        try
        {
            metadata = JsonSerializer.Deserialize(buffer.ToArray(), RegistryJsonContext.Default.RemoteEntryMetadata);
        }
        catch (JsonException ex)
        {
            throw Bad($"has metadata that is not JSON ({ex.Message})");
        }

        var layers = manifest.Layers!;
        var problem = metadata switch
        {
            null => "has no metadata",
            { Format: not RemoteEntryMetadata.CurrentFormat } => $"has metadata of format {metadata.Format}, which this version does not read",
            _ when metadata.Key != key => "names another key",
            _ when metadata.Layers.Count is 0 or > MaxLayers || metadata.Layers.Count != layers.Count => "has a layer list that does not match its manifest",
            _ when !metadata.Layers.All(CacheEntryRules.IsKey) || metadata.Layers[^1] != key || metadata.Layers.Distinct(StringComparer.Ordinal).Count() != layers.Count => "has a layer list that is not a chain of keys ending in its own",
            _ when layers.Any(l => l.MediaType != RemoteCache.LayerMediaType || !OciDigest.IsValid(l.Digest) || l.Size < 0) => $"has a layer that is not a {RemoteCache.LayerMediaType} blob",
            _ when metadata.Image is not null && !(IsImageId(metadata.Image) && OciDigest.IsValid(metadata.ImageDigest)) => "names an image by something other than its id and digest",
            _ => null,
        };
        return problem is null ? (manifest, metadata!) : throw Bad(problem);
    }

    // An image id is its config's digest: the same form.
    private static bool IsImageId(string id) => OciDigest.IsValid(id);
}
