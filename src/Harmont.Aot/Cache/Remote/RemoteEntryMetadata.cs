using System.Text.Json.Serialization;

namespace Harmont.Aot.Cache.Remote;

/// <summary>
/// The small metadata blob of a shared entry (its manifest's config): which entry it is, the step and when it was
/// made (for retention), the image to pull, and which entry each workspace layer holds. Hostile like the rest:
/// every field is checked before use.
/// </summary>
internal sealed record RemoteEntryMetadata
{
    public const string MediaType = "application/vnd.harmont.cache.entry.config.v1+json";

    public const string ArtifactType = "application/vnd.harmont.cache.entry.v1";

    // 2: each layer's source manifest is a blob of its own, after the layers (1 carried it inside each layer).
    public const int CurrentFormat = 2;

    [JsonPropertyName("format")]
    public int Format { get; init; } = CurrentFormat;

    [JsonPropertyName("key")]
    public required string Key { get; init; }

    [JsonPropertyName("pipeline")]
    public required string Pipeline { get; init; }

    [JsonPropertyName("step")]
    public required string Step { get; init; }

    [JsonPropertyName("created")]
    public required DateTimeOffset Created { get; init; }

    [JsonPropertyName("backend")]
    public string? Backend { get; init; }

    /// <summary>The entry's image id on the engine that made it (the pulled image must have the same id).</summary>
    [JsonPropertyName("image")]
    public string? Image { get; init; }

    /// <summary>The digest of the image's manifest in the same repository, which the engine pulls.</summary>
    [JsonPropertyName("imageDigest")]
    public string? ImageDigest { get; init; }

    /// <summary>
    /// The key of the entry each layer holds, in the manifest's layer order: the bottom of the chain first, this entry
    /// last. The manifest's layers are these entries' bundles, then, in the same order, their source manifests.
    /// </summary>
    [JsonPropertyName("layers")]
    public IReadOnlyList<string> Layers { get; init; } = [];
}
