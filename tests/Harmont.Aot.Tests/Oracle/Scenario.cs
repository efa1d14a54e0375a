using System.Globalization;
using System.Text;

namespace Harmont.Aot.Tests.Oracle;

/// <summary>Which cache policy a generated step carries.</summary>
public enum PolicyKind
{
    Forever,
    Ttl,
    OnChange,
}

/// <summary>How a round's source edits reach git: left in the working tree, staged, or committed.</summary>
public enum CommitMode
{
    None,
    Stage,
    Commit,
}

/// <summary>One source edit between runs.</summary>
public enum EditKind
{
    Modify,
    Add,
    Delete,
    Chmod,
}

/// <summary>A file of the scenario's repository as it is before the first run.</summary>
/// <param name="Tracked">Committed in the initial commit; otherwise untracked (or ignored, by .gitignore).</param>
public sealed record FileSpec(string Path, string Content, bool Executable, bool Tracked);

/// <summary>One cache policy; <see cref="EnvKeys"/> for forever and ttl, <see cref="Globs"/> for on-change.</summary>
public sealed record PolicySpec(PolicyKind Kind, IReadOnlyList<string> EnvKeys, IReadOnlyList<string> Globs, TimeSpan Ttl)
{
    public override string ToString() => Kind switch
    {
        PolicyKind.Forever => $"forever({string.Join(", ", EnvKeys)})",
        PolicyKind.Ttl => $"ttl({Ttl}{string.Concat(EnvKeys.Select(k => ", " + k))})",
        _ => $"on-change({string.Join(", ", Globs)})",
    };
}

/// <summary>One shell operation of a step and the workspace paths it reads or writes (each with everything below it).</summary>
public sealed record OpSpec(string Shell, IReadOnlyList<string> Touches);

/// <summary>A generated step: its place in the graph, its policies and its operations.</summary>
public sealed record StepSpec(string Key, string? From, IReadOnlyList<string> After, IReadOnlyList<PolicySpec> Policies, IReadOnlyList<OpSpec> Ops);

/// <summary>One source edit; <see cref="Content"/> for modify and add, <see cref="Executable"/> for add and chmod.</summary>
public sealed record EditSpec(EditKind Kind, string Path, string Content, bool Executable)
{
    public override string ToString() => Kind switch
    {
        EditKind.Modify => $"modify {Path} = {Quote(Content)}",
        EditKind.Add => $"add {Path}{(Executable ? " (+x)" : "")} = {Quote(Content)}",
        EditKind.Delete => $"delete {Path}",
        _ => $"chmod {(Executable ? "+x" : "-x")} {Path}",
    };

    private static string Quote(string text) => "\"" + text.Replace("\n", "\\n", StringComparison.Ordinal) + "\"";
}

/// <summary>
/// What happens before one run: source edits, how they reach git, the env keys' values (null: unset)
/// and where the run's clock stands, as an offset from the scenario's start.
/// </summary>
public sealed record RoundSpec(IReadOnlyList<EditSpec> Edits, CommitMode Commit, IReadOnlyDictionary<string, string?> Env, TimeSpan Clock);

/// <summary>A reproducible differential scenario: a repository, a pipeline over it and the rounds of edits and runs.</summary>
/// <param name="Seed">What generated it; replays it.</param>
/// <param name="Docker">Steps run in the busybox image instead of on the host.</param>
/// <param name="Strategy">The forced workspace strategy.</param>
public sealed record Scenario(
    int Seed,
    bool Docker,
    string Strategy,
    IReadOnlyList<FileSpec> Files,
    IReadOnlyList<StepSpec> Steps,
    IReadOnlyList<RoundSpec> Rounds)
{
    /// <summary>The env keys steps may name; the only variables a round sets.</summary>
    public static readonly IReadOnlyList<string> EnvKeyNames = ["ORACLE_K1", "ORACLE_K2", "ORACLE_K3"];

    /// <summary>The clock of round 0; rounds move it forward.</summary>
    public static readonly DateTimeOffset Epoch = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>How to replay this scenario alone.</summary>
    public string ReplayHint => $"HARMONT_ORACLE_SEED={(Docker ? "docker:" : "")}{Seed.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The whole scenario as text, for a failure report.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"scenario seed {Seed} ({ReplayHint}), {(Docker ? "docker" : "host")} backend, strategy {Strategy}");
        text.AppendLine("files:");
        foreach (var file in Files)
        {
            var state = file.Tracked ? "" : " (untracked)";
            text.AppendLine(CultureInfo.InvariantCulture, $"  {file.Path}{(file.Executable ? " +x" : "")}{state}: {file.Content.Replace("\n", "\\n", StringComparison.Ordinal)}");
        }

        text.AppendLine("pipeline:");
        foreach (var step in Steps)
        {
            var from = step.From is null ? "root" : "from " + step.From;
            var after = step.After.Count == 0 ? "" : ", after " + string.Join(", ", step.After);
            var policies = step.Policies.Count == 0 ? "no cache" : string.Join(" + ", step.Policies);
            text.AppendLine(CultureInfo.InvariantCulture, $"  {step.Key} ({from}{after}; {policies}):");
            foreach (var op in step.Ops)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"    {op.Shell}");
            }
        }

        // Only what the pipeline can see: env keys some policy names, the clock when a ttl reads it.
        var used = Steps.SelectMany(s => s.Policies).SelectMany(p => p.EnvKeys).ToHashSet(StringComparer.Ordinal);
        var ttl = Steps.SelectMany(s => s.Policies).Any(p => p.Kind == PolicyKind.Ttl);
        for (var i = 0; i < Rounds.Count; i++)
        {
            var round = Rounds[i];
            var env = round.Env.Where(kv => used.Contains(kv.Key)).Select(kv => kv.Value is null ? $", {kv.Key} unset" : $", {kv.Key}='{kv.Value}'");
            var clock = ttl ? $", clock +{round.Clock}" : "";
            var edits = round.Edits.Count == 0 ? ", no edits" : $", edits ({round.Commit}):";
            text.AppendLine(CultureInfo.InvariantCulture, $"run {i}{clock}{string.Concat(env)}{(i == 0 ? "" : edits)}");
            foreach (var edit in round.Edits)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"    {edit}");
            }
        }

        return text.ToString();
    }
}
