using Harmont.Aot.Cache;

namespace Harmont.Aot.Tuning;

// Too-broad onChange: misses caused only by matched files whose change left the step's output byte-identical.
internal static partial class TuneAdvisor
{
    private const int FilesNamed = 5;

    private static IEnumerable<Advice> TooBroadOnChange(List<RunRecord> runs, IReadOnlyDictionary<string, string> files)
    {
        var latest = runs[^1];
        foreach (var (step, record) in latest.Steps.Where(s => s.Value.Key is not null && s.Value.Globs.Count > 0))
        {
            var irrelevant = new HashSet<string>(StringComparer.Ordinal);
            var relevant = new HashSet<string>(StringComparer.Ordinal);
            var wasted = new List<int>();
            string? lastDigest = null;
            for (var i = 0; i < runs.Count; i++)
            {
                if (!runs[i].Steps.TryGetValue(step, out var now) || now.Facts?.Digest is not { } digest)
                {
                    continue;
                }

                if (i > 0 && now.Outcome == "executed" && OnlyFilesChanged(runs[i - 1], now, step) && OutputDigest.Comparable(lastDigest, digest))
                {
                    var changed = Matching(runs[i].Facts!.ChangedFiles, now.Globs).ToList();
                    if (lastDigest == digest)
                    {
                        wasted.Add(i);
                        irrelevant.UnionWith(changed);
                    }
                    else
                    {
                        relevant.UnionWith(changed);
                    }
                }

                lastDigest = digest;
            }

            irrelevant.ExceptWith(relevant);
            if (wasted.Count == 0 || irrelevant.Count == 0 || Narrowed(record, files, irrelevant) is not { } narrowed)
            {
                continue;
            }

            var saved = wasted.Sum(i => runs[i].Steps[step].Facts!.TotalMs + Descendants(runs[i], step).Sum(d => runs[i].Steps[d].Facts?.TotalMs ?? 0));
            var named = irrelevant.Order(StringComparer.Ordinal).Take(FilesNamed).ToList();
            yield return new Advice("onchange-too-broad", step, Math.Round(saved, 1),
                $"step '{step}': {Attribute(record.Globs)} -> {Attribute(narrowed.Kept)}",
            [
                $"{wasted.Count} of its misses re-ran it after only {string.Join(", ", narrowed.Dropped)} changed, and its output was byte-identical (digest {runs[wasted[^1]].Steps[step].Facts!.Digest})",
                $"changed files: {string.Join(", ", named)}{(irrelevant.Count > named.Count ? $" and {irrelevant.Count - named.Count} more" : "")}",
            ]);
        }
    }

    // Its key moved only because matched files changed: not its definition, env or parent.
    private static bool OnlyFilesChanged(RunRecord before, StepRecord now, string step)
    {
        if (!before.Steps.TryGetValue(step, out var then))
        {
            return false;
        }

        var changed = now.Components.Keys.Union(then.Components.Keys)
            .Where(k => now.Components.GetValueOrDefault(k) != then.Components.GetValueOrDefault(k))
            .ToList();
        return changed.Any(k => k.StartsWith("onchange.", StringComparison.Ordinal))
            && changed.All(k => k.StartsWith("onchange.", StringComparison.Ordinal) || k == "policy");
    }

    // The step's globs with each one that matched an irrelevant file narrowed (or dropped, when all it matched was irrelevant).
    private static (List<string> Kept, List<string> Dropped)? Narrowed(StepRecord record, IReadOnlyDictionary<string, string> files, HashSet<string> irrelevant)
    {
        var kept = new List<string>();
        var dropped = new List<string>();
        foreach (var glob in record.Globs)
        {
            var matched = Matching(files.Keys, [glob]).ToList();
            if (!matched.Any(irrelevant.Contains))
            {
                kept.Add(glob);
            }
            else if (matched.All(irrelevant.Contains))
            {
                dropped.Add(glob);
            }
            else if (GlobNarrowing.Narrow(glob, matched, irrelevant) is { } narrowed)
            {
                kept.AddRange(narrowed.Kept);
                dropped.AddRange(narrowed.Dropped);
            }
            else
            {
                return null;
            }
        }

        return kept.Count == 0 || dropped.Count == 0 ? null : (kept, dropped);
    }

    // Steps below it that re-ran in that run only because their parent's key moved.
    private static IEnumerable<string> Descendants(RunRecord run, string step)
    {
        foreach (var (child, record) in run.Steps.Where(s => s.Value.Components.GetValueOrDefault("from") == step))
        {
            if (record.Outcome == "executed" && record.Facts?.MissReasons is { Count: > 0 } reasons && reasons.All(r => r.StartsWith("parent '", StringComparison.Ordinal)))
            {
                yield return child;
                foreach (var below in Descendants(run, child))
                {
                    yield return below;
                }
            }
        }
    }

    private static string Attribute(IEnumerable<string> globs) => $"[CacheOnChange({string.Join(", ", globs.Select(g => $"\"{g}\""))})]";
}
