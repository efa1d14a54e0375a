using System.Text.Json.Serialization;
using Harmont.Aot.Cache;

namespace Harmont.Aot.Tuning;

/// <summary>What <c>stats</c> reports over a window of runs: per step, then the pipeline's totals.</summary>
internal sealed record StatsReport(
    [property: JsonPropertyName("pipeline")] string Pipeline,
    [property: JsonPropertyName("runs")] int Runs,
    [property: JsonPropertyName("steps")] IReadOnlyList<StepStats> Steps,
    [property: JsonPropertyName("totals")] StatsTotals Totals);

/// <summary>One step over the window (times in milliseconds).</summary>
/// <param name="Step">The step's key.</param>
/// <param name="Runs">Runs in which the step was reached (hit or executed).</param>
/// <param name="Hits">Of those, hits.</param>
/// <param name="HitRate">Hits over runs, for a cached step; null for one without a key.</param>
/// <param name="MedianMs">Median time when executed: every phase but the queue.</param>
/// <param name="P90Ms">90th percentile of the same.</param>
/// <param name="SavedMs">Time hits saved: per hit, the median executed time less what the hit cost.</param>
/// <param name="HashMs">Median per run of its share of key hashing.</param>
/// <param name="EntryBytes">Bytes of its newest entry.</param>
/// <param name="EvictedThenNeeded">Misses on a key it already had an entry for in the window: the entry had gone.</param>
internal sealed record StepStats(
    [property: JsonPropertyName("step")] string Step,
    [property: JsonPropertyName("runs")] int Runs,
    [property: JsonPropertyName("hits")] int Hits,
    [property: JsonPropertyName("hitRate")] double? HitRate,
    [property: JsonPropertyName("medianMs")] double? MedianMs,
    [property: JsonPropertyName("p90Ms")] double? P90Ms,
    [property: JsonPropertyName("savedMs")] double SavedMs,
    [property: JsonPropertyName("hashMs")] double HashMs,
    [property: JsonPropertyName("entryBytes")] long? EntryBytes,
    [property: JsonPropertyName("evictedThenNeeded")] int EvictedThenNeeded);

/// <summary>The pipeline over the window (times in milliseconds).</summary>
/// <param name="MedianWallMs">Median wall time of a run, key planning included.</param>
/// <param name="CriticalPathMs">The newest run's critical path: the longest chain of steps by their own time.</param>
/// <param name="CriticalPath">That chain, first step first.</param>
/// <param name="CommandMs">Time in commands, summed over steps and runs.</param>
/// <param name="OverheadMs">Time the runner spent on steps outside their commands (hashing, lookups, workspaces, starts, commits, persists), plus planning.</param>
/// <param name="OverheadShare">Overhead over overhead plus commands.</param>
internal sealed record StatsTotals(
    [property: JsonPropertyName("medianWallMs")] double MedianWallMs,
    [property: JsonPropertyName("criticalPathMs")] double CriticalPathMs,
    [property: JsonPropertyName("criticalPath")] IReadOnlyList<string> CriticalPath,
    [property: JsonPropertyName("commandMs")] double CommandMs,
    [property: JsonPropertyName("overheadMs")] double OverheadMs,
    [property: JsonPropertyName("overheadShare")] double OverheadShare);

/// <summary>Turns run records into <see cref="StatsReport"/>; no I/O.</summary>
internal static class RunStats
{
    /// <summary>The report over <paramref name="runs"/> (oldest first, all of one pipeline, format 2).</summary>
    public static StatsReport Compute(string pipeline, IReadOnlyList<RunRecord> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var order = runs.Count == 0 ? [] : runs[^1].Steps.Keys.Union(runs.SelectMany(r => r.Steps.Keys)).ToList();
        var steps = order.Select(step => ForStep(step, runs)).ToList();
        return new StatsReport(pipeline, runs.Count, steps, Totals(runs));
    }

    /// <summary>Each run's (step, facts), for steps with facts.</summary>
    internal static IEnumerable<(RunRecord Run, StepRecord Step, StepFacts Facts)> Occurrences(string step, IEnumerable<RunRecord> runs) =>
        runs.Where(r => r.Steps.TryGetValue(step, out var s) && s.Facts is not null).Select(r => (r, r.Steps[step], r.Steps[step].Facts!));

    /// <summary>The executed time of each run of <paramref name="step"/> that executed and passed.</summary>
    internal static List<double> ExecutedTimes(string step, IEnumerable<RunRecord> runs) =>
        [.. Occurrences(step, runs).Where(o => o.Step.Outcome == "executed").Select(o => o.Facts.TotalMs)];

    /// <summary>Misses of keys the step had an entry for earlier in the window, by run index.</summary>
    internal static List<int> EvictedThenNeeded(string step, IReadOnlyList<RunRecord> runs)
    {
        var hadEntry = new HashSet<string>(StringComparer.Ordinal);
        var found = new List<int>();
        for (var i = 0; i < runs.Count; i++)
        {
            if (!runs[i].Steps.TryGetValue(step, out var s) || s.Key is null)
            {
                continue;
            }

            if (s.Outcome == "executed" && hadEntry.Contains(s.Key))
            {
                found.Add(i);
            }

            if (s.Outcome is "executed" or "hit")
            {
                hadEntry.Add(s.Key);
            }
        }

        return found;
    }

    /// <summary>The value below which <paramref name="fraction"/> of <paramref name="values"/> lie (nearest rank); null for none.</summary>
    internal static double? Percentile(IReadOnlyCollection<double> values, double fraction)
    {
        if (values.Count == 0)
        {
            return null;
        }

        var sorted = values.Order().ToList();
        var rank = (int)Math.Ceiling(fraction * sorted.Count) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Count - 1)];
    }

    /// <summary>The longest chain of <paramref name="run"/>'s steps by their own time, and its length.</summary>
    internal static (double Ms, List<string> Path) CriticalPath(RunRecord run)
    {
        var memo = new Dictionary<string, (double Ms, List<string> Path)>(StringComparer.Ordinal);
        (double, List<string>) Longest(string step)
        {
            if (memo.TryGetValue(step, out var known))
            {
                return known;
            }

            memo[step] = (0, []); // A cycle cannot be recorded; this only guards a hostile file.
            var facts = run.Steps[step].Facts;
            var best = (Ms: 0.0, Path: new List<string>());
            foreach (var need in facts?.Needs ?? [])
            {
                if (run.Steps.ContainsKey(need) && Longest(need) is var (ms, path) && ms > best.Ms)
                {
                    best = (ms, path);
                }
            }

            var result = (best.Ms + (facts?.TotalMs ?? 0), new List<string>(best.Path) { step });
            memo[step] = result;
            return result;
        }

        var longest = (Ms: 0.0, Path: new List<string>());
        foreach (var step in run.Steps.Keys)
        {
            if (Longest(step) is var (ms, path) && ms > longest.Ms)
            {
                longest = (ms, path);
            }
        }

        return longest;
    }

    private static StepStats ForStep(string step, IReadOnlyList<RunRecord> runs)
    {
        var seen = Occurrences(step, runs).Where(o => o.Step.Outcome is "hit" or "executed").ToList();
        var hits = seen.Count(o => o.Step.Outcome == "hit");
        var executed = ExecutedTimes(step, runs);
        var median = Percentile(executed, 0.5);
        var saved = median is { } m ? seen.Where(o => o.Step.Outcome == "hit").Sum(o => Math.Max(0, m - o.Facts.TotalMs)) : 0;
        var cached = seen.Any(o => o.Step.Key is not null);
        return new StepStats(
            step,
            seen.Count,
            hits,
            cached && seen.Count > 0 ? Math.Round(hits / (double)seen.Count, 3) : null,
            median,
            Percentile(executed, 0.9),
            Math.Round(saved, 1),
            Percentile([.. seen.Select(o => o.Facts.HashMs)], 0.5) ?? 0,
            seen.LastOrDefault(o => o.Facts.EntryBytes is not null).Facts?.EntryBytes,
            EvictedThenNeeded(step, runs).Count);
    }

    private static StatsTotals Totals(IReadOnlyList<RunRecord> runs)
    {
        var facts = runs.Where(r => r.Facts is not null).ToList();
        var walls = facts.Select(r => r.Facts!.WallMs + r.Facts.PlanMs).ToList();
        var steps = facts.SelectMany(r => r.Steps.Values).Select(s => s.Facts).OfType<StepFacts>().ToList();
        var command = steps.Sum(s => s.CommandMs);
        var overhead = steps.Sum(s => s.OverheadMs - s.HashMs) + facts.Sum(r => r.Facts!.PlanMs);
        var (critical, path) = facts.Count > 0 ? CriticalPath(facts[^1]) : (0, []);
        return new StatsTotals(
            Percentile(walls, 0.5) ?? 0,
            Math.Round(critical, 1),
            path,
            Math.Round(command, 1),
            Math.Round(overhead, 1),
            command + overhead > 0 ? Math.Round(overhead / (command + overhead), 3) : 0);
    }
}
