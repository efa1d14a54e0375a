using System.Globalization;
using System.Text.Json.Serialization;
using Harmont.Aot.Cache;
using Harmont.Aot.Keys;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Tuning;

/// <summary>One recommendation: what to change, what it would have saved over the window, and the measurements behind it.</summary>
internal sealed record Advice(
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("step")] string? Step,
    [property: JsonPropertyName("savedMs")] double SavedMs,
    [property: JsonPropertyName("change")] string Change,
    [property: JsonPropertyName("evidence")] IReadOnlyList<string> Evidence);

/// <summary>What <c>tune</c> reports: the advice, largest saving first.</summary>
internal sealed record TuneReport(
    [property: JsonPropertyName("pipeline")] string Pipeline,
    [property: JsonPropertyName("runs")] int Runs,
    [property: JsonPropertyName("advice")] IReadOnlyList<Advice> Advice);

/// <summary>What the advice is computed from: the runs, and what the machine measured now.</summary>
internal sealed record TuneInputs
{
    /// <summary>The window of runs, oldest first.</summary>
    public required IReadOnlyList<RunRecord> Runs { get; init; }

    /// <summary>The newest run's file table: every onChange-matched file, for narrowing globs.</summary>
    public IReadOnlyDictionary<string, string> Files { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>doctor's probe of the work dir's filesystem; null when not probed.</summary>
    public IReadOnlyList<StrategyProbe>? WorkDirProbes { get; init; }

    /// <summary>The same probe on the cache dir's filesystem, when it is another one.</summary>
    public IReadOnlyList<StrategyProbe>? CacheDirProbes { get; init; }

    /// <summary>HARMONT_WORKSPACE_STRATEGY, when set.</summary>
    public string? ForcedStrategy { get; init; }
}

/// <summary>
/// Turns run records into advice (docs/stats-and-tune.md); no I/O, so every rule is tested on synthetic records.
/// A rule says nothing without evidence in the window: a healthy pipeline gets no advice.
/// </summary>
internal static partial class TuneAdvisor
{
    /// <summary>A step with no policy whose median executed time is at least this is worth caching.</summary>
    public const double ExpensiveMs = 1000;

    /// <summary>Savings below this over the whole window are noise, not advice.</summary>
    public const double NoticeableMs = 50;

    /// <summary>Every rule's advice, largest saving first.</summary>
    public static TuneReport Advise(string pipeline, TuneInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var runs = inputs.Runs.Where(r => r.Facts is not null).ToList();
        var advice = new List<Advice>();
        if (runs.Count > 0)
        {
            advice.AddRange(UncachedAndExpensive(runs));
            advice.AddRange(TooBroadOnChange(runs, inputs.Files));
            advice.AddRange(CachingCostsMore(runs));
            advice.AddRange(BoundTooSmall(runs));
            advice.AddRange(WorkspaceStrategy(runs, inputs));
            advice.AddRange(Parallelism(runs));
        }

        return new TuneReport(pipeline, runs.Count, [.. advice.Where(a => a.SavedMs >= NoticeableMs).OrderByDescending(a => a.SavedMs)]);
    }

    private static IEnumerable<Advice> UncachedAndExpensive(List<RunRecord> runs)
    {
        var latest = runs[^1];
        foreach (var (step, record) in latest.Steps.Where(s => s.Value.Key is null && s.Value.Components.GetValueOrDefault("policies") is null))
        {
            var times = RunStats.ExecutedTimes(step, runs);
            if (times.Count < 2 || RunStats.Percentile(times, 0.5) is not { } median || median < ExpensiveMs)
            {
                continue;
            }

            var parent = record.Components.GetValueOrDefault("from");
            if (parent is not null && latest.Steps.GetValueOrDefault(parent)?.Key is null)
            {
                continue; // Its parent must be cached first; that parent gets its own advice if it is expensive.
            }

            // It would have hit where its definition and what it starts from were as in the run before.
            var unchanged = Enumerable.Range(1, runs.Count - 1)
                .Where(i => Same(runs[i - 1], runs[i], step) && runs[i].Steps[step].Outcome == "executed"
                    && (parent is null ? runs[i].Facts!.ChangedFiles.Count == 0 : runs[i].Steps.GetValueOrDefault(parent)?.Outcome == "hit"))
                .ToList();
            var saved = unchanged.Sum(i => runs[i].Steps[step].Facts!.CommandMs + runs[i].Steps[step].Facts!.StartMs);
            var change = parent is null ? $"step '{step}': add [CacheOnChange(\"**\")], then narrow the glob to the files it reads" : $"step '{step}': add [CacheForever]";
            yield return new Advice("uncached-expensive", step, Math.Round(saved, 1), change,
            [
                $"it has no cache policy and took {Seconds(median)} (median of {times.Count} runs)",
                parent is null
                    ? $"in {unchanged.Count} of {runs.Count} runs its definition was unchanged and no onChange-tracked file changed" +
                        (latest.Steps.Values.Any(s => s.Globs.Count > 0) ? "" : " (no step tracks files, so this is at most what it would save)")
                    : $"in {unchanged.Count} of {runs.Count} runs its parent '{parent}' was a hit and its definition unchanged: a cached step would have hit",
            ]);
        }
    }

    private static IEnumerable<Advice> CachingCostsMore(List<RunRecord> runs)
    {
        var latest = runs[^1];
        foreach (var (step, record) in latest.Steps.Where(s => s.Value.Key is not null))
        {
            if (latest.Steps.Values.Any(s => s.Components.GetValueOrDefault("from") == step && s.Key is not null))
            {
                continue; // Dropping its policy would uncache its children too.
            }

            var seen = RunStats.Occurrences(step, runs).Where(o => o.Step.Outcome is "hit" or "executed").Select(o => o.Facts).ToList();
            var executed = RunStats.Occurrences(step, runs).Where(o => o.Step.Outcome == "executed").Select(o => o.Facts).ToList();
            if (seen.Count < 2 || executed.Count == 0)
            {
                continue;
            }

            var command = RunStats.Percentile([.. executed.Select(f => f.PrepareMs + f.StartMs + f.CommandMs)], 0.5)!.Value;
            var caching = RunStats.Percentile([.. executed.Select(f => f.HashMs + f.LookupMs + f.CommitMs + f.PersistMs)], 0.5)!.Value;
            var with = seen.Sum(f => f.TotalMs);
            var without = seen.Count * command;
            if (caching <= command || with - without < NoticeableMs)
            {
                continue;
            }

            var hits = seen.Count - executed.Count;
            yield return new Advice("cache-costs-more", step, Math.Round(with - without, 1), $"step '{step}': remove its cache attributes ({record.Components["policies"]})",
            [
                $"hashing, lookup, commit and persist take {Seconds(caching)} per executed run, the command {Seconds(command)}",
                $"over {seen.Count} runs ({hits} hits) it cost {Seconds(with)} cached; run every time it would cost about {Seconds(without)}",
            ]);
        }
    }

    private static IEnumerable<Advice> BoundTooSmall(List<RunRecord> runs)
    {
        var steps = runs.SelectMany(r => r.Steps.Keys).Distinct(StringComparer.Ordinal).ToList();
        var missed = steps.SelectMany(s => RunStats.EvictedThenNeeded(s, runs).Select(i => (Step: s, Run: i))).ToList();
        if (missed.Count == 0)
        {
            yield break;
        }

        // Room for every step's newest entry twice over: one generation in use while the next is written.
        var newest = steps.Select(s => RunStats.Occurrences(s, runs).Select(o => o.Facts.EntryBytes ?? 0).DefaultIfEmpty(0).Max()).Sum();
        var proposed = RoundUp(2 * newest);
        var bound = missed.Min(m => runs[m.Run].Facts!.MaxBytes);
        if (proposed <= bound)
        {
            yield break; // The entries went for another reason (cache clean, prune, another pipeline's bound).
        }

        var saved = missed.Sum(m => runs[m.Run].Steps[m.Step].Facts!.TotalMs);
        yield return new Advice("bound-too-small", null, Math.Round(saved, 1), $"set HARMONT_CACHE_MAX_SIZE={Size(proposed)} (it was {Size(bound)})",
        [
            $"{missed.Count} misses re-ran a step whose entry for the same key was gone: {string.Join(", ", missed.GroupBy(m => m.Step).Select(g => $"{g.Key} ({g.Count()})"))}",
            $"this pipeline's newest entries take {CacheUnits.FormatSize(newest)}; the bound was {CacheUnits.FormatSize(bound)}",
        ]);
    }

    private static bool Same(RunRecord before, RunRecord after, string step) =>
        before.Steps.TryGetValue(step, out var a) && after.Steps.TryGetValue(step, out var b)
        && a.Components.Count == b.Components.Count && a.Components.All(c => b.Components.GetValueOrDefault(c.Key) == c.Value);

    private static long RoundUp(long bytes)
    {
        var unit = bytes >= 1L << 30 ? 1L << 30 : 64L << 20;
        return Math.Max(unit, (bytes + unit - 1) / unit * unit);
    }

    private static string Size(long bytes) =>
        bytes % (1L << 30) == 0 ? $"{bytes >> 30}GiB" : $"{bytes >> 20}MiB";

    internal static string Seconds(double ms) =>
        ms >= 1000 ? (ms / 1000).ToString("0.0' s'", CultureInfo.InvariantCulture) : ms.ToString("0' ms'", CultureInfo.InvariantCulture);

    internal static IEnumerable<string> Matching(IEnumerable<string> files, IEnumerable<string> globs)
    {
        var compiled = globs.Select(g => new Glob(g)).ToList();
        return files.Where(f => compiled.Exists(g => g.IsMatch(f)));
    }
}
