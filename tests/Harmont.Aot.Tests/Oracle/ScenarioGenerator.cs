using System.Globalization;

namespace Harmont.Aot.Tests.Oracle;

/// <summary>
/// Builds a <see cref="Scenario"/> from a seed: a small repository, a pipeline of chains, forks and
/// orderings with every cache policy, steps that rewrite the tree in awkward ways, and rounds of edits
/// that never change what a cached step uses behind its key's back (see <see cref="OracleModel.Invalid"/>).
/// </summary>
public static class ScenarioGenerator
{
    private static readonly string[] Dirs = ["src", "src/core", "lib", "docs", "bin", "conf/app"];
    private static readonly string[] Stems = ["alpha", "beta", "gamma", "main", "util", "notes", "data"];
    private static readonly string[] Extensions = ["txt", "md", "cfg", "sh"];
    private static readonly string?[] EnvValues = [null, "", "a", "b"];
    private static readonly TimeSpan[] Advances = [TimeSpan.Zero, TimeSpan.FromMinutes(10), TimeSpan.FromHours(1), TimeSpan.FromDays(1)];

    /// <param name="pwdSteps">Whether steps may write <c>$PWD</c> into the workspace: on only where it is stable across runs.</param>
    public static Scenario Generate(int seed, bool docker, string strategy, bool pwdSteps)
    {
        // A scenario where no step ever runs over a hit says nothing about §4.2: draw again, a few times.
        var scenario = Attempt(new Random(seed), seed, docker, strategy, pwdSteps);
        for (var attempt = 1; attempt < 6 && !OracleModel.RunsOverAHit(scenario); attempt++)
        {
            scenario = Attempt(new Random(HashCode.Combine(seed, attempt)), seed, docker, strategy, pwdSteps);
        }

        return scenario;
    }

    private static Scenario Attempt(Random rng, int seed, bool docker, string strategy, bool pwdSteps)
    {
        var files = Files(rng);
        var names = new Names();
        var steps = Steps(rng, files, names, docker ? rng.Next(3, 5) : rng.Next(3, 8), pwdSteps);
        var scenario = new Scenario(seed, docker, strategy, files, steps, []);
        var rounds = new List<RoundSpec> { new([], CommitMode.None, Env(rng, null), TimeSpan.Zero) };
        var roundCount = docker ? rng.Next(1, 3) : rng.Next(1, 4);
        for (var r = 1; r <= roundCount; r++)
        {
            var previous = rounds[^1];
            var round = new RoundSpec([], (CommitMode)rng.Next(3), Env(rng, previous.Env), previous.Clock + Advances[rng.Next(Advances.Length)]);
            rounds.Add(round);
            var editCount = rng.Next(0, 4);
            for (var e = 0; e < editCount; e++)
            {
                // An edit the model rejects (it would make a cached step stale on purpose) is redrawn.
                for (var attempt = 0; attempt < 12; attempt++)
                {
                    var source = OracleModel.Sources(scenario with { Rounds = rounds })[^1];
                    var edit = Edit(rng, source, names, r);
                    var candidate = round with { Edits = [.. round.Edits, edit] };
                    rounds[^1] = candidate;
                    if (OracleModel.Invalid(scenario with { Rounds = rounds }) is null)
                    {
                        round = candidate;
                        break;
                    }

                    rounds[^1] = round;
                }
            }
        }

        return scenario with { Rounds = rounds };
    }

    private static List<FileSpec> Files(Random rng)
    {
        var dirs = new List<string> { "", "src" };
        dirs.AddRange(Dirs.Skip(1).Where(_ => rng.Next(2) == 0));
        var files = new List<FileSpec>
        {
            new(".gitignore", "*.log\n", false, true),
            new("debug.log", "ignored\n", false, false),
        };
        var count = rng.Next(5, 31);
        for (var i = 0; i < count; i++)
        {
            var dir = dirs[rng.Next(dirs.Count)];
            var ext = dir == "bin" ? "sh" : Extensions[rng.Next(Extensions.Length)];
            var path = Join(dir, $"{Stems[rng.Next(Stems.Length)]}{i}.{ext}");
            var executable = ext == "sh" ? rng.Next(5) > 0 : rng.Next(8) == 0;
            var content = string.Concat(Enumerable.Range(0, rng.Next(1, 4)).Select(l => $"{path} v0 line{l} {rng.Next(1000)}\n"));
            files.Add(new FileSpec(path, content, executable, Tracked: rng.Next(8) > 0));
        }

        return files;
    }

    private static List<StepSpec> Steps(Random rng, List<FileSpec> files, Names names, int count, bool pwdSteps)
    {
        var source = files.Where(f => !OracleModel.Ignored(f.Path)).Select(f => f.Path).ToList();
        var outputs = new Dictionary<string, SimTree>(StringComparer.Ordinal);
        var steps = new List<StepSpec>();
        for (var i = 0; i < count; i++)
        {
            var key = "s" + (i + 1).ToString(CultureInfo.InvariantCulture);
            string? from = i > 0 && rng.Next(10) < 7 ? steps[Math.Max(0, i - 1 - rng.Next(Math.Min(i, 3)))].Key : null;
            var others = steps.Where(s => s.Key != from).Select(s => s.Key).ToList();
            string[] after = others.Count > 0 && rng.Next(4) == 0 ? [others[rng.Next(others.Count)]] : [];
            var tree = from is null ? new SimTree(source) : outputs[from].Clone();
            var ops = Enumerable.Range(0, rng.Next(1, 5)).Select(_ => StepOps.Next(rng, tree, names, key, pwdSteps)).ToList();
            outputs[key] = tree;
            steps.Add(new StepSpec(key, from, after, Policies(rng, source), ops));
        }

        return steps;
    }

    private static List<PolicySpec> Policies(Random rng, List<string> source)
    {
        var roll = rng.Next(20);
        var count = roll < 5 ? 0 : roll < 14 ? 1 : roll < 18 ? 2 : 3;
        var policies = new List<PolicySpec>();
        for (var i = 0; i < count; i++)
        {
            var kind = (PolicyKind)rng.Next(3);
            var envKeys = Scenario.EnvKeyNames.Where(_ => rng.Next(3) == 0).ToList();
            policies.Add(kind switch
            {
                PolicyKind.Forever => new PolicySpec(kind, envKeys, [], TimeSpan.Zero),
                PolicyKind.Ttl => new PolicySpec(kind, envKeys, [], rng.Next(2) == 0 ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1)),
                _ => new PolicySpec(kind, [], [.. Enumerable.Range(0, rng.Next(1, 3)).Select(_ => Glob(rng, source)).Distinct()], TimeSpan.Zero),
            });
        }

        return policies;
    }

    private static string Glob(Random rng, List<string> source)
    {
        var file = source[rng.Next(source.Count)];
        var dir = Path.GetDirectoryName(file) ?? "";
        var ext = Path.GetExtension(file);
        return rng.Next(4) switch
        {
            0 => file,
            1 when dir.Length > 0 => dir + "/**",
            2 when ext.Length > 0 => Join(dir, "*" + ext),
            3 when ext.Length > 0 => "**/*" + ext,
            _ => file,
        };
    }

    private static Dictionary<string, string?> Env(Random rng, IReadOnlyDictionary<string, string?>? previous)
    {
        var env = Scenario.EnvKeyNames.ToDictionary(k => k, k => previous is null ? EnvValues[rng.Next(EnvValues.Length)] : previous[k], StringComparer.Ordinal);
        if (previous is not null && rng.Next(3) == 0)
        {
            env[Scenario.EnvKeyNames[rng.Next(Scenario.EnvKeyNames.Count)]] = EnvValues[rng.Next(EnvValues.Length)];
        }

        return env;
    }

    private static EditSpec Edit(Random rng, IReadOnlyDictionary<string, SourceFile> source, Names names, int round)
    {
        var existing = source.Keys.ToList();
        var path = existing[rng.Next(existing.Count)];
        var content = $"{path} r{round} {names.Next("e")}\n";
        switch (rng.Next(6))
        {
            case 0 or 1:
                return new EditSpec(EditKind.Modify, path, content, false);
            case 2:
                var dirs = existing.Select(p => Path.GetDirectoryName(p) ?? "").Distinct().ToList();
                var dir = rng.Next(4) == 0 ? names.Next("added") : dirs[rng.Next(dirs.Count)];
                var added = Join(dir, names.Next("new") + ".txt");
                return new EditSpec(EditKind.Add, added, $"{added} r{round}\n", rng.Next(5) == 0);
            case 3:
                return new EditSpec(EditKind.Delete, path, "", false);
            case 4:
                return new EditSpec(EditKind.Chmod, path, "", !source[path].Executable);
            default:
                return new EditSpec(EditKind.Modify, path, content + "more\n", false);
        }
    }

    internal static string Join(string dir, string name) => dir.Length == 0 ? name : dir + "/" + name;
}

/// <summary>Fresh names, unique within one scenario, so no generated path is ever reused by accident.</summary>
internal sealed class Names
{
    private int _next;

    public string Next(string prefix) => prefix + (++_next).ToString(CultureInfo.InvariantCulture);
}
