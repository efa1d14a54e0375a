using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Harmont.Aot.Cache;

/// <summary>
/// Every step's key components as one run resolved them, and how each step ended. Written after
/// each run; the next run (or <c>explain</c>) compares against it to say which input changed.
/// </summary>
internal sealed record RunRecord
{
    public const int CurrentFormat = 1;

    [JsonPropertyName("format")]
    public int Format { get; init; } = CurrentFormat;

    [JsonPropertyName("run")]
    public required string RunId { get; init; }

    [JsonPropertyName("at")]
    public required DateTimeOffset At { get; init; }

    [JsonPropertyName("pipeline")]
    public required string Pipeline { get; init; }

    [JsonPropertyName("steps")]
    public required Dictionary<string, StepRecord> Steps { get; init; }

    /// <summary>sha256 of every file an onChange glob matched, by repo-relative path.</summary>
    [JsonPropertyName("files")]
    public required SortedDictionary<string, string> Files { get; init; }

    /// <summary>Where the record of one project's pipeline lives: one file, replaced atomically by each run.</summary>
    public static string PathFor(string cacheRoot, string project, string pipeline)
    {
        var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{project}\0{pipeline}")).AsSpan(0, 12));
        return Path.Combine(cacheRoot, "runs", $"{id}.json");
    }

    /// <summary>The recorded run, or null when there is none or it cannot be read (a record is advice, never a reason to fail).</summary>
    public static RunRecord? Load(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            var record = JsonSerializer.Deserialize(stream, CacheJsonContext.Default.RunRecord);
            return record?.Format == CurrentFormat ? record : null;
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The record of <paramref name="plan"/> with each step's outcome.</summary>
    public static RunRecord From(string runId, DateTimeOffset at, CachePlan plan, IReadOnlyDictionary<string, string> outcomes)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(outcomes);
        return new()
        {
            RunId = runId,
            At = at,
            Pipeline = plan.Pipeline,
            Steps = plan.Steps.Values.ToDictionary(
                p => p.Step,
                p => new StepRecord
                {
                    Key = p.Key,
                    NotCachedReason = p.NotCachedReason,
                    Outcome = outcomes.TryGetValue(p.Step, out var outcome) ? outcome : "not-run",
                    Components = new SortedDictionary<string, string>(p.Components.ToDictionary(), StringComparer.Ordinal),
                    Globs = [.. p.Globs],
                },
                StringComparer.Ordinal),
            Files = new SortedDictionary<string, string>(plan.Files.ToDictionary(), StringComparer.Ordinal),
        };
    }

    /// <summary>Writes the record to a temporary file and renames it into place, so a reader never sees half of it.</summary>
    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                JsonSerializer.Serialize(stream, this, CacheJsonContext.Default.RunRecord);
            }

            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }
}

/// <summary>One step in a <see cref="RunRecord"/>.</summary>
internal sealed record StepRecord
{
    [JsonPropertyName("key")]
    public string? Key { get; init; }

    [JsonPropertyName("notCached")]
    public string? NotCachedReason { get; init; }

    /// <summary><c>hit</c>, <c>executed</c>, <c>failed</c>, <c>timed out</c>, <c>skipped</c>, <c>cancelled</c>, <c>not-run</c>.</summary>
    [JsonPropertyName("outcome")]
    public required string Outcome { get; init; }

    [JsonPropertyName("components")]
    public required SortedDictionary<string, string> Components { get; init; }

    [JsonPropertyName("globs")]
    public List<string> Globs { get; init; } = [];
}
