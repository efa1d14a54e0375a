using System.Globalization;
using Harmont.Aot.Cache;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Tuning;

// Advice about the machine rather than a step: where the work dir is, and -j.
internal static partial class TuneAdvisor
{
    // Slots are worth more only when a run waited this long for one.
    private const double QueueWorthMs = 200;

    // A command this much slower with more steps running than cores is fighting for them.
    private const double Contention = 1.5;

    private static IEnumerable<Advice> WorkspaceStrategy(List<RunRecord> runs, TuneInputs inputs)
    {
        var used = runs.Where(r => r.Facts!.Strategy is not null).ToList();
        if (used.Count == 0)
        {
            yield break;
        }

        var latest = used[^1].Facts!;
        var spent = used.Sum(r => r.Steps.Values.Sum(s => (s.Facts?.PrepareMs ?? 0) + (s.Facts?.PersistMs ?? 0)));
        var current = Fastest(inputs.WorkDirProbes, latest.Strategy);
        if (latest.SameFileSystem == false)
        {
            var better = Fastest(inputs.CacheDirProbes, null);
            var ratio = current?.PrepareTime is { } slow && better?.PrepareTime is { } fast && slow > TimeSpan.Zero ? Math.Min(1, fast / slow) : 0;
            var evidence = new List<string>
            {
                $"the work dir {latest.WorkDir} and the cache dir {latest.CacheDir} are on different filesystems: a cached output is copied byte by byte into the cache, never cloned",
                $"workspaces and persisting took {Seconds(spent)} over {used.Count} runs (strategy {latest.Strategy})",
            };
            if (current?.PrepareTime is { } c && better?.PrepareTime is { } b)
            {
                evidence.Add($"doctor's probe: {current.Name} {Ms(c)} per workspace here, {better.Name} {Ms(b)} on the cache dir's filesystem");
            }

            yield return new Advice("workspace-strategy", null, Math.Round(spent * (1 - ratio), 1),
                $"move the work dir onto the cache dir's filesystem: HARMONT_WORK_DIR={Path.Combine(latest.CacheDir ?? "", "work")}", evidence);
            yield break;
        }

        if (latest.Strategy == WorkspaceStrategies.Copy && Fastest(inputs.WorkDirProbes, null) is { Name: not WorkspaceStrategies.Copy, PrepareTime: { } quick } faster
            && current?.PrepareTime is { } copy && quick < copy)
        {
            var change = inputs.ForcedStrategy is null
                ? $"set HARMONT_WORKSPACE_STRATEGY={faster.Name}"
                : $"HARMONT_WORKSPACE_STRATEGY={inputs.ForcedStrategy} forces copy: unset it, or set it to {faster.Name}";
            yield return new Advice("workspace-strategy", null, Math.Round(spent * (1 - (quick / copy)), 1), change,
            [
                $"runs used copy; doctor's probe on the work dir measures {faster.Name} at {Ms(quick)} per workspace against copy's {Ms(copy)}",
                $"workspaces and persisting took {Seconds(spent)} over {used.Count} runs",
            ]);
        }
    }

    private static IEnumerable<Advice> Parallelism(List<RunRecord> runs)
    {
        var latest = runs[^1].Facts!;
        var (jobs, cores) = (latest.Parallelism, latest.Cores);
        var same = runs.Where(r => r.Facts!.Parallelism == jobs).ToList();
        if (jobs < cores)
        {
            var waits = same.Select(r => r.Steps.Values.Max(s => s.Facts?.QueueMs ?? 0)).ToList();
            var demand = same.Max(r => Peak(r, queued: true));
            if (waits.Sum() >= QueueWorthMs && demand > jobs)
            {
                var proposed = Math.Min(cores, demand);
                yield return new Advice("parallelism", null, Math.Round(waits.Sum(), 1), $"run with -j {proposed} (it was -j {jobs}; this machine has {cores} cores)",
                [
                    $"steps waited for a slot in {waits.Count(w => w > 0)} of {same.Count} runs, up to {Seconds(waits.Max())} in one run, while {cores - jobs} cores had no slot",
                    $"up to {demand} steps were ready at once",
                ]);
            }

            yield break;
        }

        if (jobs <= cores)
        {
            yield break;
        }

        // The reverse: more steps than cores ran at once, and their commands were slower for it.
        var crowded = new List<(double Ms, double Calm)>();
        foreach (var step in runs[^1].Steps.Keys)
        {
            var samples = same.Where(r => r.Steps.TryGetValue(step, out var s) && s.Outcome == "executed")
                .Select(r => (Ms: r.Steps[step].Facts!.CommandMs, Crowded: Peak(r, queued: false, during: step) > cores)).ToList();
            var calm = RunStats.Percentile([.. samples.Where(s => !s.Crowded).Select(s => s.Ms)], 0.5);
            if (calm is { } c && c > 0)
            {
                crowded.AddRange(samples.Where(s => s.Crowded && s.Ms > Contention * c).Select(s => (s.Ms, c)));
            }
        }

        if (crowded.Count > 0)
        {
            yield return new Advice("parallelism", null, Math.Round(crowded.Sum(c => c.Ms - c.Calm), 1), $"run with -j {cores} (it was -j {jobs}; this machine has {cores} cores)",
            [
                $"{crowded.Count} commands ran while more steps than cores were running and took over {Contention.ToString(CultureInfo.InvariantCulture)} times their median when fewer ran",
            ]);
        }
    }

    // The most steps executing (or, with queued, ready and waiting too) at one time in the run; during a step, only while it ran.
    private static int Peak(RunRecord run, bool queued, string? during = null)
    {
        var spans = run.Steps.Values.Where(s => s.Outcome != "hit" && s.Facts is { BeganMs: not null, EndedMs: not null })
            .Select(s => (Start: s.Facts!.BeganMs!.Value + s.Facts.LookupMs + (queued ? 0 : s.Facts.QueueMs), End: s.Facts.EndedMs!.Value))
            .ToList();
        var window = during is not null && run.Steps[during].Facts is { BeganMs: { } b, EndedMs: { } e } ? (b, e) : (double.MinValue, double.MaxValue);
        return spans.Where(s => s.Start < window.Item2 && s.End > window.Item1)
            .Select(s => spans.Count(o => o.Start <= s.Start && o.End > s.Start))
            .DefaultIfEmpty(0).Max();
    }

    private static StrategyProbe? Fastest(IReadOnlyList<StrategyProbe>? probes, string? name) =>
        probes?.Where(p => p.Available && p.PrepareTime is not null && (name is null || p.Name == name)).MinBy(p => p.PrepareTime);

    private static string Ms(TimeSpan time) => time.TotalMilliseconds.ToString("0.00' ms'", CultureInfo.InvariantCulture);
}
