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

        // Format 1 carried each entry's source manifest inside its layer; 2 ships them after the layers.
        var perEntry = metadata?.Format == RemoteEntryMetadata.CurrentFormat ? 2 : 1;
        var problem = metadata switch
        {
            null => "has no metadata",
            { Format: not (1 or RemoteEntryMetadata.CurrentFormat) } => $"has metadata of format {metadata.Format}, which this version does not read",
            _ when metadata.Key != key => "names another key",
            _ when metadata.Layers.Count is 0 or > MaxLayers || perEntry * metadata.Layers.Count != layers.Count => "has a layer list that does not match its manifest",
            _ when !metadata.Layers.All(CacheEntryRules.IsKey) || metadata.Layers[^1] != key || metadata.Layers.Distinct(StringComparer.Ordinal).Count() != metadata.Layers.Count => "has a layer list that is not a chain of keys ending in its own",
            _ when layers.Select((l, i) => (l, i)).Any(x => x.l.MediaType != (x.i < metadata.Layers.Count ? RemoteCache.LayerMediaType : RemoteCache.SourcesMediaType)
                || !OciDigest.IsValid(x.l.Digest) || x.l.Size < 0) => $"has layers that are not its {RemoteCache.LayerMediaType} blobs (followed by as many {RemoteCache.SourcesMediaType} ones)",
            _ when metadata.Image is not null && !(IsImageId(metadata.Image) && OciDigest.IsValid(metadata.ImageDigest)) => "names an image by something other than its id and digest",
            _ => null,
        };
        return problem is null ? (manifest, metadata!) : throw Bad(problem);
    }

    // An image id is its config's digest: the same form.
    private static bool IsImageId(string id) => OciDigest.IsValid(id);
}
