using System.Text.Json.Serialization;

namespace Harmont.Aot.Cache;

/// <summary>What a cache entry records about the step result it holds (docs/cache-store.md), stored as entry.json.</summary>
/// <remarks>
/// An entry.json is hostile input (a bundle, another machine, a damaged disk): it is read only through
/// <see cref="CacheEntryRules.Read"/>, which checks every field with <see cref="Validate"/> before anything uses one.
/// </remarks>
internal sealed record CacheEntry
{
    /// <summary>Layout version of the entry; a reader skips entries it does not understand.</summary>
    [JsonPropertyName("format")]
    public int Format { get; init; } = CurrentFormat;

    [JsonPropertyName("key")]
    public required string Key { get; init; }

    [JsonPropertyName("pipeline")]
    public required string Pipeline { get; init; }

    [JsonPropertyName("step")]
    public required string Step { get; init; }

    /// <summary>The key's named components (project, parent, definition, policy…), for <c>explain</c>.</summary>
    [JsonPropertyName("components")]
    public IReadOnlyDictionary<string, string> Components { get; init; } = new Dictionary<string, string>();

    [JsonPropertyName("created")]
    public required DateTimeOffset Created { get; init; }

    /// <summary>The committed image of a Docker step; null on the host.</summary>
    [JsonPropertyName("image")]
    public string? Image { get; init; }

    /// <summary>
    /// Whether the entry holds the step's output workspace and source manifest. Every entry recorded
    /// now does; entries from before leaves kept theirs may not, and a child added later makes them miss.
    /// </summary>
    [JsonPropertyName("workspace")]
    public bool HasWorkspace { get; init; }

    /// <summary>
    /// When set, the entry's workspace is not a whole tree but an overlay upper layer (made by the
    /// <see cref="LayerStrategy"/> strategy) over the workspace of the entry with this key: the step's
    /// input was that cached output, so only what the step changed is stored (docs/cache-store.md).
    /// </summary>
    [JsonPropertyName("base")]
    public string? Base { get; init; }

    /// <summary>The overlay strategy whose upper-layer format the workspace is in, when <see cref="Base"/> is set.</summary>
    [JsonPropertyName("layerStrategy")]
    public string? LayerStrategy { get; init; }

    /// <summary>Bytes the entry's image adds over its parent image (Docker), counted in <see cref="Size"/>.</summary>
    [JsonPropertyName("imageSize")]
    public long ImageSize { get; init; }

    /// <summary>The backend that produced it (<c>docker</c>, <c>host</c>); a hit needs the same one.</summary>
    [JsonPropertyName("backend")]
    public string? Backend { get; init; }

    /// <summary>Bytes the entry holds: its workspace on disk plus <see cref="ImageSize"/>.</summary>
    [JsonPropertyName("size")]
    public long Size { get; init; }

    /// <summary>
    /// The layout of an entry whose workspace is a whole tree. 3: the source manifest holds each file's
    /// mode and hash (the source delta of docs/workspaces.md); entries of formats 1 and 2 held paths only and are dropped.
    /// </summary>
    public const int CurrentFormat = 3;

    /// <summary>
    /// The layout of an entry whose workspace is a layer over <see cref="Base"/>. A reader that knows
    /// only <see cref="CurrentFormat"/> drops it rather than take the layer for a whole tree.
    /// </summary>
    public const int LayeredFormat = 4;

    /// <summary>Whether this version reads the entry's layout.</summary>
    [JsonIgnore]
    public bool IsReadable => Format == CurrentFormat || (Format == LayeredFormat && Base is not null);

    /// <summary>What is wrong with the entry's fields, or null when every one is safe to use; see <see cref="CacheEntryRules"/>.</summary>
    public string? Validate() => CacheEntryRules.Check(this);
}

/// <summary>Source-generated JSON for the cache's files; the runtime is AOT, so no reflection.</summary>
[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(CacheEntry))]
[JsonSerializable(typeof(RunRecord))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class CacheJsonContext : JsonSerializerContext;
