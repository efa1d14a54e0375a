using System.Globalization;
using System.Text;

namespace Harmont.Aot.Tests.Oracle;

/// <summary>A source file as the model sees it.</summary>
public sealed record SourceFile(string Content, bool Executable);

/// <summary>
/// The oracle's own view of a scenario, independent of the product: the source snapshot of each round,
/// each step's key inputs (so which steps must hit), and whether the scenario is one where a run with
/// hits must equal a cold run at all.
/// </summary>
public static class OracleModel
{
    /// <summary>The source snapshot (git's view: ignored files left out) before each round's run.</summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, SourceFile>> Sources(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var state = new SortedDictionary<string, SourceFile>(StringComparer.Ordinal);
        foreach (var file in scenario.Files.Where(f => !Ignored(f.Path)))
        {
            state[file.Path] = new SourceFile(file.Content, file.Executable);
        }

        var rounds = new List<IReadOnlyDictionary<string, SourceFile>>();
        foreach (var round in scenario.Rounds)
        {
            foreach (var edit in round.Edits)
            {
                Apply(state, edit);
            }

            rounds.Add(new SortedDictionary<string, SourceFile>(state, StringComparer.Ordinal));
        }

        return rounds;
    }

    /// <summary>Whether .gitignore (always <c>*.log</c>) keeps a file out of the snapshot.</summary>
    public static bool Ignored(string path) => path.EndsWith(".log", StringComparison.Ordinal);

    /// <summary>A step has a key: it has a policy and so has every step of its lineage (an uncached parent makes it uncached).</summary>
    public static bool Cacheable(Scenario scenario, StepSpec step)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        for (var s = step; s is not null; s = Parent(scenario, s))
        {
            if (s.Policies.Count == 0)
            {
                return false;
            }
        }

        return true;
    }

    public static StepSpec? Parent(Scenario scenario, StepSpec step) =>
        step.From is null ? null : scenario.Steps.Single(s => s.Key == step.From);

    /// <summary>The step and its ancestors.</summary>
    public static IEnumerable<StepSpec> Lineage(Scenario scenario, StepSpec step)
    {
        for (var s = step; s is not null; s = Parent(scenario, s))
        {
            yield return s;
        }
    }

    /// <summary>Everything the step's key covers in round <paramref name="round"/>, as text; null for an uncached step.</summary>
    public static string? KeyModel(Scenario scenario, StepSpec step, int round, IReadOnlyDictionary<string, SourceFile> source)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(source);
        if (!Cacheable(scenario, step))
        {
            return null;
        }

        var parent = Parent(scenario, step);
        var text = new StringBuilder(step.Key).Append("|parent=").Append(parent is null ? "scratch" : KeyModel(scenario, parent, round, source));
        var spec = scenario.Rounds[round];
        foreach (var policy in step.Policies)
        {
            text.Append('|').Append(policy.Kind);
            if (policy.Kind == PolicyKind.Ttl)
            {
                text.Append(((scenario.Rounds[round].Clock + (Scenario.Epoch - DateTimeOffset.UnixEpoch)).Ticks / policy.Ttl.Ticks).ToString(CultureInfo.InvariantCulture));
            }

            foreach (var name in policy.EnvKeys.Order(StringComparer.Ordinal))
            {
                var value = spec.Env.GetValueOrDefault(name);
                text.Append(';').Append(name).Append(value is null ? " unset" : "=" + value);
            }

            foreach (var glob in policy.Globs)
            {
                foreach (var path in source.Keys.Where(p => OracleGlob.Matches(glob, p)))
                {
                    text.Append(';').Append(path).Append('=').Append(source[path].Content);
                }
            }
        }

        return text.ToString();
    }

    /// <summary>Which steps hit in each round, by the model: a cached step hits when an earlier run recorded its key inputs.</summary>
    public static IReadOnlyList<IReadOnlySet<string>> Hits(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var sources = Sources(scenario);
        var recorded = new HashSet<(string, string)>();
        var rounds = new List<IReadOnlySet<string>>();
        for (var r = 0; r < scenario.Rounds.Count; r++)
        {
            var keys = scenario.Steps.Select(s => (s.Key, Model: KeyModel(scenario, s, r, sources[r]))).ToList();
            var hits = keys.Where(k => k.Model is not null && recorded.Contains((k.Key, k.Model))).Select(k => k.Key).ToHashSet(StringComparer.Ordinal);
            recorded.UnionWith(keys.Where(k => k.Model is not null).Select(k => (k.Key, k.Model!)));
            rounds.Add(hits);
        }

        return rounds;
    }

    /// <summary>Some run executes a step whose parent is a hit: the case the source-delta rule (docs/workspaces.md) is about.</summary>
    public static bool RunsOverAHit(Scenario scenario) =>
        Hits(scenario).Any(hits => scenario.Steps.Any(s => !hits.Contains(s.Key) && s.From is not null && hits.Contains(s.From)));

    /// <summary>
    /// Why the scenario cannot be run as generated, or null. Every edit must apply, every glob must match,
    /// and no edit may change a file that a cached step reads or writes unless its key covers that change:
    /// then the hit is the user's declared staleness (docs/workspaces.md) and a cold run is no reference.
    /// </summary>
    public static string? Invalid(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var state = new SortedDictionary<string, SourceFile>(StringComparer.Ordinal);
        foreach (var file in scenario.Files.Where(f => !Ignored(f.Path)))
        {
            state[file.Path] = new SourceFile(file.Content, file.Executable);
        }

        var cached = scenario.Steps.Where(s => Cacheable(scenario, s)).ToList();
        for (var r = 0; r < scenario.Rounds.Count; r++)
        {
            foreach (var edit in scenario.Rounds[r].Edits)
            {
                var exists = state.ContainsKey(edit.Path);
                if ((edit.Kind == EditKind.Add) == exists || (edit.Kind == EditKind.Add && Collides(state, edit.Path)))
                {
                    return $"round {r}: {edit} does not apply";
                }

                Apply(state, edit);
                foreach (var step in cached.Where(s => s.Ops.Any(op => op.Touches.Any(t => Overlaps(t, edit.Path)))))
                {
                    var globs = Lineage(scenario, step).SelectMany(s => s.Policies).SelectMany(p => p.Globs).ToList();
                    var covered = edit.Kind != EditKind.Chmod && globs.Any(g => OracleGlob.Matches(g, edit.Path));
                    if (!covered)
                    {
                        return $"round {r}: {edit} changes what cached step {step.Key} uses, and its key does not cover it";
                    }
                }
            }

            foreach (var glob in scenario.Steps.SelectMany(s => s.Policies).SelectMany(p => p.Globs))
            {
                if (!state.Keys.Any(p => OracleGlob.Matches(glob, p)))
                {
                    return $"round {r}: glob {glob} matches nothing";
                }
            }
        }

        return null;
    }

    /// <summary>One path is the other or lies below it.</summary>
    public static bool Overlaps(string a, string b) =>
        a == b || b.StartsWith(a + "/", StringComparison.Ordinal) || a.StartsWith(b + "/", StringComparison.Ordinal);

    private static bool Collides(SortedDictionary<string, SourceFile> state, string path) =>
        state.Keys.Any(p => p != path && Overlaps(p, path));

    private static void Apply(SortedDictionary<string, SourceFile> state, EditSpec edit)
    {
        if (Ignored(edit.Path))
        {
            return;
        }

        switch (edit.Kind)
        {
            case EditKind.Modify when state.TryGetValue(edit.Path, out var old):
                state[edit.Path] = old with { Content = edit.Content };
                break;
            case EditKind.Add:
                state[edit.Path] = new SourceFile(edit.Content, edit.Executable);
                break;
            case EditKind.Delete:
                state.Remove(edit.Path);
                break;
            case EditKind.Chmod when state.TryGetValue(edit.Path, out var file):
                state[edit.Path] = file with { Executable = edit.Executable };
                break;
        }
    }
}
