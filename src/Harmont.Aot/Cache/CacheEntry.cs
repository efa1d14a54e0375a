using System.Text.Json.Serialization;

namespace Harmont.Aot.Cache;

/// <summary>What a cache entry records about the step result it holds (DESIGN §7), stored as entry.json.</summary>
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
    /// Whether the entry holds the step's output workspace and source manifest. A step with no children
    /// records none: no hit of it would ever read one. A child added later makes its next run a miss.
    /// </summary>
    [JsonPropertyName("workspace")]
    public bool HasWorkspace { get; init; }

    /// <summary>The backend that produced it (<c>docker</c>, <c>host</c>); a hit needs the same one.</summary>
    [JsonPropertyName("backend")]
    public string? Backend { get; init; }

    /// <summary>Bytes on disk of the entry's workspace.</summary>
    [JsonPropertyName("size")]
    public long Size { get; init; }

    public const int CurrentFormat = 1;
}

/// <summary>Source-generated JSON for the cache's files; the runtime is AOT, so no reflection.</summary>
[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(CacheEntry))]
[JsonSerializable(typeof(RunRecord))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class CacheJsonContext : JsonSerializerContext;
