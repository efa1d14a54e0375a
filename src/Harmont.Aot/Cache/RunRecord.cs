using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Harmont.Aot.Keys;

namespace Harmont.Aot.Cache;

/// <summary>
/// Every step's key components as one run resolved them, and how each step ended. Written after
/// each run; the next run (or <c>explain</c>) compares against it to say which input changed.
/// </summary>
internal sealed record RunRecord
{
    /// <summary>2 added the timings and outcomes <c>stats</c> and <c>tune</c> read; a format-1 record still reads, without them.</summary>
    public const int CurrentFormat = 2;

    private const int FirstFormat = 1;

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

    /// <summary>
    /// sha256 of every file an onChange glob matched, by repo-relative path. Kept in a file of its own,
    /// named by its content's digest (<see cref="FilesDigest"/>), and written only when it changed: on a
    /// big tree it is most of the record, and a no-op run should not rewrite it.
    /// </summary>
    [JsonIgnore]
    public Dictionary<string, string> Files { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Names the file that holds <see cref="Files"/>.</summary>
    [JsonPropertyName("files")]
    public string? FilesDigest { get; init; }

    /// <summary>How the run went as a whole (format 2); null in a format-1 record.</summary>
    [JsonPropertyName("runStats")]
    public Tuning.RunFacts? Facts { get; init; }

    /// <summary>Where the record of one project's pipeline lives: one file, replaced atomically by each run.</summary>
    public static string PathFor(string cacheRoot, string project, string pipeline)
    {
        var id = CacheKey.Sha256Hex($"{project}\0{pipeline}")[..24];
        return Path.Combine(cacheRoot, "runs", $"{id}.json");
    }

    /// <summary>The recorded run, or null when there is none or it cannot be read (a record is advice, never a reason to fail).</summary>
    public static RunRecord? Load(string path)
    {
        try
        {
            RunRecord? record;
            using (var stream = File.OpenRead(path))
            {
                record = JsonSerializer.Deserialize(stream, CacheJsonContext.Default.RunRecord);
            }

            if (record?.Format is not (FirstFormat or CurrentFormat))
            {
                return null;
            }

            // Without its file table, explain still names the globs whose files changed, just not the files.
            var files = record.FilesDigest is { } digest && File.Exists(FilesPath(path, digest))
                ? JsonSerializer.Deserialize(File.ReadAllBytes(FilesPath(path, digest)), CacheJsonContext.Default.DictionaryStringString)
                : null;
            return record with { Files = files ?? new Dictionary<string, string>(StringComparer.Ordinal) };
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
                    Components = p.Components,
                    Globs = [.. p.Globs],
                },
                StringComparer.Ordinal),
            Files = plan.Files as Dictionary<string, string> ?? new Dictionary<string, string>(plan.Files, StringComparer.Ordinal),
        };
    }

    /// <summary>
    /// Writes the record, and its file table when no file of that content exists yet, each to a temporary
    /// file renamed into place, so a reader never sees half of either. File tables no record names are removed.
    /// </summary>
    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var digest = DigestOf(Files);
        var filesPath = FilesPath(path, digest);
        if (!File.Exists(filesPath))
        {
            AtomicFile.Write(filesPath, JsonSerializer.SerializeToUtf8Bytes(Files, CacheJsonContext.Default.DictionaryStringString));
            foreach (var old in Directory.EnumerateFiles(Path.GetDirectoryName(path)!, $"{Path.GetFileNameWithoutExtension(path)}.files-*.json"))
            {
                if (old != filesPath)
                {
                    File.Delete(old); // A concurrent run's table may go too; its explain then names globs, not files.
                }
            }
        }

        AtomicFile.Write(path, JsonSerializer.SerializeToUtf8Bytes(this with { FilesDigest = digest }, CacheJsonContext.Default.RunRecord));
    }

    // The same table, built by the same plan, always gets the same name.
    private static string DigestOf(Dictionary<string, string> files)
    {
        using var hash = new FieldHash();
        foreach (var (path, sha) in files)
        {
            hash.Add(path).Add(sha);
        }

        return hash.FinishHex()[..24] + files.Count.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string FilesPath(string recordPath, string digest) =>
        Path.Combine(Path.GetDirectoryName(recordPath)!, $"{Path.GetFileNameWithoutExtension(recordPath)}.files-{digest}.json");
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
    public required IReadOnlyDictionary<string, string> Components { get; init; }

    [JsonPropertyName("globs")]
    public List<string> Globs { get; init; } = [];

    /// <summary>What the step cost and made in this run (format 2); null in a format-1 record.</summary>
    [JsonPropertyName("stats")]
    public Tuning.StepFacts? Facts { get; init; }
}
