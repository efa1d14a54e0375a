using System.Text.Json;
using System.Text.Json.Serialization;

namespace Harmont.Aot.Runners.Docker;

// Wire shapes of the Engine API, reduced to the fields this runner reads or writes.
// Names follow the engine's own spelling (PascalCase, except the lower-case stream messages).

/// <summary>What a container is created with; the subset of the engine's create body we use.</summary>
/// <param name="Image">Image reference or id.</param>
/// <param name="Cmd">Command and arguments.</param>
internal sealed record ContainerSpec(string Image, IReadOnlyList<string> Cmd)
{
    /// <summary>Container name, so a create whose reply was lost can still be removed; null lets the engine choose.</summary>
    public string? Name { get; init; }

    /// <summary>Environment as <c>KEY=value</c>.</summary>
    public IReadOnlyList<string>? Env { get; init; }

    /// <summary>Working directory inside the container.</summary>
    public string? WorkingDir { get; init; }

    /// <summary>Bind mounts as <c>host:container[:opts]</c>.</summary>
    public IReadOnlyList<string>? Binds { get; init; }

    /// <summary>The engine's log driver; <c>none</c> for steps, whose output is read through attach (see <see cref="LogConfig"/>).</summary>
    public string? LogDriver { get; init; }

    /// <summary>Container labels.</summary>
    public IReadOnlyDictionary<string, string>? Labels { get; init; }
}

/// <summary>GET /version.</summary>
internal sealed record VersionResponse
{
    [JsonPropertyName("Version")] public string? Version { get; init; }
    [JsonPropertyName("ApiVersion")] public string? ApiVersion { get; init; }
    [JsonPropertyName("MinAPIVersion")] public string? MinApiVersion { get; init; }
}

/// <summary>The engine's error body.</summary>
internal sealed record ErrorResponse
{
    [JsonPropertyName("message")] public string? Message { get; init; }
}

/// <summary>POST /containers/create body.</summary>
internal sealed record CreateContainerRequest
{
    [JsonPropertyName("Image")] public required string Image { get; init; }
    [JsonPropertyName("Cmd")] public required IReadOnlyList<string> Cmd { get; init; }
    [JsonPropertyName("Env")] public IReadOnlyList<string>? Env { get; init; }
    [JsonPropertyName("WorkingDir")] public string? WorkingDir { get; init; }
    [JsonPropertyName("Labels")] public IReadOnlyDictionary<string, string>? Labels { get; init; }
    [JsonPropertyName("AttachStdout")] public bool AttachStdout { get; init; }
    [JsonPropertyName("AttachStderr")] public bool AttachStderr { get; init; }
    [JsonPropertyName("HostConfig")] public HostConfig? HostConfig { get; init; }
}

/// <summary>The host-side part of a create body.</summary>
internal sealed record HostConfig
{
    [JsonPropertyName("Binds")] public IReadOnlyList<string>? Binds { get; init; }

    /// <summary>
    /// The engine's log driver: <c>none</c>, since output is read through attach, and a driver's log file
    /// would keep a step's unmasked output (secrets included) on the engine's disk.
    /// </summary>
    [JsonPropertyName("LogConfig")] public LogConfig? LogConfig { get; init; }
}

/// <summary>A container's log driver.</summary>
internal sealed record LogConfig
{
    [JsonPropertyName("Type")] public required string Type { get; init; }
}

/// <summary>Replies that carry only an id (create, commit).</summary>
internal sealed record IdResponse
{
    [JsonPropertyName("Id")] public string? Id { get; init; }
}

/// <summary>POST /containers/{id}/wait.</summary>
internal sealed record WaitResponse
{
    [JsonPropertyName("StatusCode")] public long StatusCode { get; init; }
    [JsonPropertyName("Error")] public WaitError? Error { get; init; }
}

/// <summary>Why waiting on a container failed.</summary>
internal sealed record WaitError
{
    [JsonPropertyName("Message")] public string? Message { get; init; }
}

/// <summary>POST /commit body: config overrides for the new image.</summary>
internal sealed record CommitRequest
{
    [JsonPropertyName("Labels")] public IReadOnlyDictionary<string, string>? Labels { get; init; }
}

/// <summary>One line of a pull or import progress stream.</summary>
internal sealed record ProgressMessage
{
    [JsonPropertyName("id")] public string? Id { get; init; }
    [JsonPropertyName("status")] public string? Status { get; init; }
    [JsonPropertyName("progress")] public string? Progress { get; init; }
    [JsonPropertyName("error")] public string? Error { get; init; }
    [JsonPropertyName("errorDetail")] public ErrorResponse? ErrorDetail { get; init; }
}

/// <summary>An entry of GET /containers/json.</summary>
internal sealed record ContainerSummary
{
    [JsonPropertyName("Id")] public string Id { get; init; } = string.Empty;
    [JsonPropertyName("Names")] public IReadOnlyList<string>? Names { get; init; }
    [JsonPropertyName("Image")] public string? Image { get; init; }
    [JsonPropertyName("State")] public string? State { get; init; }
    [JsonPropertyName("Created")] public long Created { get; init; }
    [JsonPropertyName("Labels")] public IReadOnlyDictionary<string, string>? Labels { get; init; }
}

/// <summary>An entry of GET /images/json.</summary>
internal sealed record ImageSummary
{
    [JsonPropertyName("Id")] public string Id { get; init; } = string.Empty;
    [JsonPropertyName("RepoTags")] public IReadOnlyList<string>? RepoTags { get; init; }
    [JsonPropertyName("Labels")] public IReadOnlyDictionary<string, string>? Labels { get; init; }
    [JsonPropertyName("Created")] public long Created { get; init; }
}

/// <summary>GET /images/{name}/json, reduced to what snapshots and GC need.</summary>
internal sealed record ImageInspect
{
    [JsonPropertyName("Id")] public string Id { get; init; } = string.Empty;
    [JsonPropertyName("RootFS")] public RootFs? RootFs { get; init; }
    [JsonPropertyName("Config")] public ContainerConfig? Config { get; init; }

    /// <summary>Bytes of all the image's layers together.</summary>
    [JsonPropertyName("Size")] public long Size { get; init; }

    /// <summary>How many filesystem layers the image stacks; overlay2 refuses to go past 125.</summary>
    public int LayerCount => RootFs?.Layers?.Count ?? 0;
}

/// <summary>An image's layer list.</summary>
internal sealed record RootFs
{
    [JsonPropertyName("Layers")] public IReadOnlyList<string>? Layers { get; init; }
}

/// <summary>GET /containers/{id}/json, reduced to what flattening and GC need.</summary>
internal sealed record ContainerInspect
{
    [JsonPropertyName("Id")] public string Id { get; init; } = string.Empty;
    [JsonPropertyName("Created")] public DateTimeOffset Created { get; init; }
    [JsonPropertyName("State")] public ContainerState? State { get; init; }
    [JsonPropertyName("Config")] public ContainerConfig? Config { get; init; }
}

/// <summary>A container's run state.</summary>
internal sealed record ContainerState
{
    [JsonPropertyName("Status")] public string? Status { get; init; }
    [JsonPropertyName("FinishedAt")] public DateTimeOffset FinishedAt { get; init; }
}

/// <summary>
/// A container's or image's config (Env, Cmd, WorkingDir, Labels, ...). Only the fields this runner
/// changes are typed; every other field is carried through untouched, so a config read from one
/// object can be given to another without losing what this runner does not know about.
/// </summary>
internal sealed record ContainerConfig
{
    [JsonPropertyName("Image")] public string? Image { get; init; }
    [JsonPropertyName("Env")] public IReadOnlyList<string>? Env { get; init; }
    [JsonPropertyName("WorkingDir")] public string? WorkingDir { get; init; }
    [JsonPropertyName("Labels")] public IReadOnlyDictionary<string, string>? Labels { get; init; }

    /// <summary>Every field not typed above, as the engine sent it.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Rest { get; set; }
}

/// <summary>Source-generated serializers for every Engine API shape, so nothing reflects at run time.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(VersionResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(CreateContainerRequest))]
[JsonSerializable(typeof(IdResponse))]
[JsonSerializable(typeof(WaitResponse))]
[JsonSerializable(typeof(CommitRequest))]
[JsonSerializable(typeof(ProgressMessage))]
[JsonSerializable(typeof(List<ContainerSummary>))]
[JsonSerializable(typeof(List<ImageSummary>))]
[JsonSerializable(typeof(Dictionary<string, string[]>))]
[JsonSerializable(typeof(ImageInspect))]
[JsonSerializable(typeof(ContainerInspect))]
[JsonSerializable(typeof(ContainerConfig))]
internal sealed partial class DockerJsonContext : JsonSerializerContext;
