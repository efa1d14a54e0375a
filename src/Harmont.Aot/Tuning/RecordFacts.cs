using Harmont.Aot.Cache;
using Harmont.Aot.Keys;
using Harmont.Aot.Model;
using Harmont.Aot.Scheduling;

namespace Harmont.Aot.Tuning;

/// <summary>Adds to a run's record what <c>stats</c> and <c>tune</c> read: each step's measured phases, entry, output digest and miss reason.</summary>
internal static class RecordFacts
{
    // With RunFacts.MaxChangedFiles, these bound a record's size (docs/stats-and-tune.md).
    private const int MaxReasons = 12;
    private const int MaxReasonLength = 300;
    private const int MaxPathLength = 512;

    /// <summary>
    /// <paramref name="record"/> with its facts. Waits for the output digests still being hashed; miss reasons are
    /// <see cref="CacheExplainer"/>'s against <paramref name="previous"/>, so they read as <c>explain</c> says them.
    /// </summary>
    public static async Task<RunRecord> CompleteAsync(
        RunRecord record, RunRecord? previous, PipelineDefinition pipeline, RunTimings timings, IReadOnlyDictionary<string, RecordedEntry> recorded, RunFacts run)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(timings);
        ArgumentNullException.ThrowIfNull(recorded);
        var digests = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (step, entry) in recorded)
        {
            try
            {
                digests[step] = await entry.Digest;
            }
#pragma warning disable CA1031 // A digest is evidence for advice, never a reason for a run to fail.
            catch (Exception)
#pragma warning restore CA1031
            {
                digests[step] = null;
            }
        }

        var shares = HashShares(record, timings.Planning.TotalMilliseconds);
        var steps = new Dictionary<string, StepRecord>(StringComparer.Ordinal);
        foreach (var definition in pipeline.Steps)
        {
            if (!record.Steps.TryGetValue(definition.Key, out var step))
            {
                continue;
            }

            var t = timings.Of(definition.Key);
            steps[definition.Key] = step with
            {
                Facts = new StepFacts
                {
                    Status = StatusOf(step.Outcome),
                    HashMs = Round(shares.GetValueOrDefault(definition.Key)),
                    LookupMs = Ms(t, StepPhase.Lookup),
                    QueueMs = Round(t?.Queued.TotalMilliseconds ?? 0),
                    PrepareMs = Ms(t, StepPhase.Prepare),
                    StartMs = Ms(t, StepPhase.Start),
                    CommandMs = Ms(t, StepPhase.Command),
                    CommitMs = Ms(t, StepPhase.Commit),
                    PersistMs = Ms(t, StepPhase.Persist),
                    BeganMs = t?.Began is { } began ? Round(began.TotalMilliseconds) : null,
                    EndedMs = t?.Ended is { } ended ? Round(ended.TotalMilliseconds) : null,
                    EntryBytes = recorded.TryGetValue(definition.Key, out var entry) ? entry.Bytes : null,
                    Digest = digests.GetValueOrDefault(definition.Key),
                    MissReasons = step.Key is not null && step.Outcome != "hit" ? Bounded(CacheExplainer.Reasons(definition.Key, record, previous)) : null,
                    Needs = [.. PipelineGraph.Prerequisites(definition)],
                },
            };
        }

        var changed = ChangedFiles(record, previous).Where(p => p.Length <= MaxPathLength).ToList();
        return record with
        {
            Steps = steps,
            Facts = run with
            {
                PlanMs = Round(timings.Planning.TotalMilliseconds),
                ChangedFiles = [.. changed.Take(RunFacts.MaxChangedFiles)],
                ChangedMore = ChangedFiles(record, previous).Count - Math.Min(changed.Count, RunFacts.MaxChangedFiles),
            },
        };
    }

    // A miss reason nests its parent's, so a deep chain would grow the record without end: each is cut, and so is their count.
    private static List<string> Bounded(IReadOnlyList<string> reasons) =>
        [.. reasons.Take(MaxReasons).Select(r => r.Length <= MaxReasonLength ? r : r[..(MaxReasonLength - 1)] + "…")];

    // The plan hashes every onChange file in one parallel pass; each onChange step is charged by the share of files it matched.
    private static Dictionary<string, double> HashShares(RunRecord record, double planMs)
    {
        var matched = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (step, s) in record.Steps.Where(s => s.Value.Globs.Count > 0))
        {
            var globs = s.Globs.Select(g => new Glob(g)).ToList();
            matched[step] = record.Files.Keys.Count(path => globs.Exists(g => g.IsMatch(path)));
        }

        var total = matched.Values.Sum();
        return total == 0 ? [] : matched.ToDictionary(p => p.Key, p => planMs * p.Value / total, StringComparer.Ordinal);
    }

    private static List<string> ChangedFiles(RunRecord current, RunRecord? previous)
    {
        if (previous is null || previous.Files.Count == 0)
        {
            return [];
        }

        return [.. current.Files.Keys.Union(previous.Files.Keys)
            .Where(path => current.Files.GetValueOrDefault(path) != previous.Files.GetValueOrDefault(path))
            .Order(StringComparer.Ordinal)];
    }

    private static string StatusOf(string outcome) => outcome switch
    {
        "hit" or "executed" => "passed",
        "not-run" => "skipped",
        _ => outcome,
    };

    private static double Ms(StepTimings? timings, StepPhase phase) => Round(timings?[phase].TotalMilliseconds ?? 0);

    // To 10 µs: a hit that asks nothing of the engine is looked up in tens of microseconds.
    private static double Round(double ms) => Math.Round(ms, 2);
}
