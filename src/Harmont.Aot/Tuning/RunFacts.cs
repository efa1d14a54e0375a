using System.Text.Json.Serialization;

namespace Harmont.Aot.Tuning;

/// <summary>How one run went as a whole, as its record keeps it for <c>stats</c> and <c>tune</c>.</summary>
internal sealed record RunFacts
{
    /// <summary>Most changed file paths one record keeps; the rest are counted in <see cref="ChangedMore"/>.</summary>
    public const int MaxChangedFiles = 100;

    [JsonPropertyName("project")]
    public string? Project { get; init; }

    /// <summary>From the first step queued to the last one finished.</summary>
    [JsonPropertyName("wallMs")]
    public double WallMs { get; init; }

    /// <summary>Resolving the keys before anything ran (source listing, onChange stat and hash, project identity).</summary>
    [JsonPropertyName("planMs")]
    public double PlanMs { get; init; }

    /// <summary>The -j the run had.</summary>
    [JsonPropertyName("jobs")]
    public int Parallelism { get; init; }

    [JsonPropertyName("cores")]
    public int Cores { get; init; }

    /// <summary>The workspace strategy; null when no step executed, so none was chosen.</summary>
    [JsonPropertyName("strategy")]
    public string? Strategy { get; init; }

    [JsonPropertyName("workDir")]
    public string? WorkDir { get; init; }

    [JsonPropertyName("cacheDir")]
    public string? CacheDir { get; init; }

    /// <summary>Whether the work dir and the cache dir are on one filesystem (a clone into the cache can then share extents); null when unknown.</summary>
    [JsonPropertyName("sameFilesystem")]
    public bool? SameFileSystem { get; init; }

    /// <summary>The cache's size bound during the run.</summary>
    [JsonPropertyName("maxBytes")]
    public long MaxBytes { get; init; }

    /// <summary>onChange-matched files whose content changed, appeared or went since the run before, at most <see cref="MaxChangedFiles"/>.</summary>
    [JsonPropertyName("changed")]
    public List<string> ChangedFiles { get; init; } = [];

    [JsonPropertyName("changedMore")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int ChangedMore { get; init; }

    [JsonPropertyName("exit")]
    public int ExitCode { get; init; }
}

/// <summary>What one step cost and made in one run (times in milliseconds).</summary>
internal sealed record StepFacts
{
    /// <summary><c>passed</c>, <c>failed</c>, <c>timed out</c>, <c>skipped</c>, <c>cancelled</c>.</summary>
    [JsonPropertyName("status")]
    public required string Status { get; init; }

    /// <summary>Its share of the run's key planning: the plan's time split over onChange steps by the files each matched.</summary>
    [JsonPropertyName("hashMs")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public double HashMs { get; init; }

    [JsonPropertyName("lookupMs")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public double LookupMs { get; init; }

    [JsonPropertyName("queueMs")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public double QueueMs { get; init; }

    [JsonPropertyName("prepareMs")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public double PrepareMs { get; init; }

    [JsonPropertyName("startMs")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public double StartMs { get; init; }

    [JsonPropertyName("commandMs")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public double CommandMs { get; init; }

    [JsonPropertyName("commitMs")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public double CommitMs { get; init; }

    [JsonPropertyName("persistMs")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public double PersistMs { get; init; }

    /// <summary>When the step began its own work and when it ended, since the run began; null when it never began.</summary>
    [JsonPropertyName("beganMs")]
    public double? BeganMs { get; init; }

    [JsonPropertyName("endedMs")]
    public double? EndedMs { get; init; }

    /// <summary>Bytes its new cache entry added (workspace and image); null when it published none.</summary>
    [JsonPropertyName("entryBytes")]
    public long? EntryBytes { get; init; }

    /// <summary>The <see cref="OutputDigest"/> of what it produced; null when it published no entry.</summary>
    [JsonPropertyName("digest")]
    public string? Digest { get; init; }

    /// <summary>Why a cached step missed, as <c>explain</c> says it; null for a hit or a step without a key.</summary>
    [JsonPropertyName("miss")]
    public List<string>? MissReasons { get; init; }

    /// <summary>The steps it waited for (its parent and its After).</summary>
    [JsonPropertyName("needs")]
    public List<string> Needs { get; init; } = [];

    /// <summary>All the time the runner spent on the step outside its command.</summary>
    [JsonIgnore]
    public double OverheadMs => HashMs + LookupMs + PrepareMs + StartMs + CommitMs + PersistMs;

    /// <summary>The step's own time, queue excluded.</summary>
    [JsonIgnore]
    public double TotalMs => OverheadMs + CommandMs;
}

/// <summary>What a cached step's new entry added: its bytes, and its output digest, hashed in the background.</summary>
internal sealed record RecordedEntry(long Bytes, Task<string?> Digest);
