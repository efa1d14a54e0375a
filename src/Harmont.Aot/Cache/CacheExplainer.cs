using System.Text;
using Harmont.Aot.Keys;

namespace Harmont.Aot.Cache;

/// <summary>
/// Says why a step hit or missed the cache by comparing its key components with the last recorded
/// run: which of command, image, env var, cwd, parent, policy env key, file or ttl bucket changed.
/// A key alone explains nothing; a named input does.
/// </summary>
internal static class CacheExplainer
{
    private const int MaxFilesListed = 10;

    /// <summary>One line per step (in <paramref name="order"/>): hit, not cached and why, or miss and what changed.</summary>
    /// <param name="current">This run's record; a step's outcome says whether it hit.</param>
    /// <param name="previous">The run before it, or null.</param>
    /// <param name="order">Step keys in the order to print them.</param>
    /// <param name="project">The project identity the keys were made with, said first: it decides which clones share entries.</param>
    public static string Describe(RunRecord current, RunRecord? previous, IEnumerable<string> order, string project)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(order);
        var steps = order.Where(current.Steps.ContainsKey).ToList();
        var width = steps.Max(s => (int?)s.Length) ?? 0;
        var text = new StringBuilder();
        text.AppendLine(previous is null
            ? "cache: no earlier run of this pipeline is recorded, so there is nothing to compare with."
            : $"cache: compared with run {previous.RunId} ({previous.At:yyyy-MM-dd HH:mm:ss}Z):");
        text.Append("  ").AppendLine(ProjectIdentity.Describe(project));
        foreach (var step in steps)
        {
            var record = current.Steps[step];
            var verdict = record.Key is null ? "not cached" : record.Outcome == "hit" ? "hit" : "miss";
            IReadOnlyList<string> reasons = verdict switch
            {
                "hit" => [$"key {record.Key![..16]}"],
                "not cached" => [record.NotCachedReason ?? "it has no cache policy"],
                _ => Reasons(step, current, previous),
            };
            text.Append("  ").Append(step.PadRight(width)).Append("  ").Append(verdict).Append(": ").AppendJoin("; ", reasons).AppendLine();
        }

        return text.ToString();
    }

    /// <summary>Why <paramref name="step"/>'s key in <paramref name="current"/> found no entry, compared with <paramref name="previous"/>.</summary>
    public static IReadOnlyList<string> Reasons(string step, RunRecord current, RunRecord? previous)
    {
        ArgumentNullException.ThrowIfNull(current);
        var now = current.Steps[step];
        if (now.Key is null)
        {
            return [$"not cached: {now.NotCachedReason}"];
        }

        if (previous is null || !previous.Steps.TryGetValue(step, out var before))
        {
            return ["no earlier run of this step is recorded"];
        }

        if (before.Key == now.Key)
        {
            return before.Outcome is "hit" or "executed"
                ? ["its inputs are unchanged since the last run, but its entry is gone (evicted, pruned, cleaned, or its image was deleted)"]
                : [$"its inputs are unchanged, but last time the step {before.Outcome}, so nothing was cached"];
        }

        var reasons = new List<string>();
        var summaries = new List<string>();
        foreach (var name in now.Components.Keys.Union(before.Components.Keys).Order(StringComparer.Ordinal))
        {
            var old = before.Components.GetValueOrDefault(name);
            var @new = now.Components.GetValueOrDefault(name);
            if (old == @new)
            {
                continue;
            }

            if (name is "definition" or "policy" or "step" or "pipeline")
            {
                summaries.Add(name); // Hashes of the parts below; said only when no part explains them.
                continue;
            }

            reasons.AddRange(DescribeChange(name, old, @new, now, current, previous));
        }

        if (reasons.Count == 0)
        {
            reasons.Add(summaries.Count > 0 ? $"its {string.Join(" and ", summaries)} changed" : "its key changed");
        }

        return reasons;
    }

    private static List<string> DescribeChange(string name, string? old, string? @new, StepRecord now, RunRecord current, RunRecord previous)
    {
        switch (name)
        {
            case "command":
                return ["the command changed"];
            case "image" or "cwd" or "runner" or "secrets" or "from" or "project":
                return [$"{Noun(name)} changed: {Shown(old)} -> {Shown(@new)}"];
            case "policies":
                return [$"its cache policy changed: {Shown(old)} -> {Shown(@new)}"];
            case "key.given":
                return ["the given cache key changed"];
            case "parent":
                return [ParentReason(now, current, previous)];
            case var env when env.StartsWith("env.", StringComparison.Ordinal):
                return [$"env var {env[4..]} {Change(old, @new)}"];
            case var key when key.StartsWith("forever.env.", StringComparison.Ordinal) || key.StartsWith("ttl.env.", StringComparison.Ordinal):
                var policy = key[..key.IndexOf('.', StringComparison.Ordinal)];
                return [$"env var {key[(policy.Length + 5)..]} (a key of its {policy} policy) {Change(old, @new)}"];
            case var bucket when bucket.StartsWith("ttl.bucket.", StringComparison.Ordinal):
                return old is null || @new is null ? [] : [$"the ttl bucket moved ({bucket[11..]} ttl: bucket {old} -> {@new})"];
            case var globs when globs.StartsWith("onchange.", StringComparison.Ordinal):
                return FileReasons(globs[9..], current, previous);
            default:
                return [$"{name} changed"];
        }
    }

    private static string ParentReason(StepRecord now, RunRecord current, RunRecord previous)
    {
        var parent = now.Components.GetValueOrDefault("from");
        if (parent is null || !current.Steps.ContainsKey(parent))
        {
            return "its parent's key changed";
        }

        return $"parent '{parent}' changed ({string.Join("; ", Reasons(parent, current, previous))})";
    }

    // Which matched files changed, appeared or went, for one onChange policy's globs.
    private static List<string> FileReasons(string globList, RunRecord current, RunRecord previous)
    {
        var globs = globList.Split(',').Select(g => new Glob(g)).ToList();
        var reasons = new List<string>();
        foreach (var path in current.Files.Keys.Union(previous.Files.Keys).Where(p => globs.Any(g => g.IsMatch(p))).Order(StringComparer.Ordinal))
        {
            var before = previous.Files.GetValueOrDefault(path);
            var after = current.Files.GetValueOrDefault(path);
            if (before != after)
            {
                reasons.Add($"file {path} {(before is null ? "was added" : after is null ? "was removed" : "changed")}");
            }
        }

        if (reasons.Count == 0)
        {
            return [$"the files matched by {globList} changed"];
        }

        return reasons.Count <= MaxFilesListed ? reasons : [.. reasons.Take(MaxFilesListed), $"and {reasons.Count - MaxFilesListed} more files"];
    }

    private static string Change(string? old, string? @new) => old is null ? "was added" : @new is null ? "was removed" : "changed";

    private static string Noun(string name) => name switch
    {
        "from" => "its parent step",
        "project" => "the project identity",
        "secrets" => "the secrets it receives",
        _ => $"the {name}",
    };

    private static string Shown(string? value) => string.IsNullOrEmpty(value) ? "(none)" : value;
}
