using System.Runtime.Versioning;
using Harmont.Aot.Events;
using Harmont.Aot.Model;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Tests.Oracle;

/// <summary>Where and how a scenario first went wrong.</summary>
/// <param name="Round">The run (0 is the first).</param>
/// <param name="Kind">A short class of failure, so shrinking keeps to the same problem.</param>
public sealed record OracleFailure(int Round, string Kind, string Message);

/// <summary>How each run of a scenario gets the entries the runs before it recorded.</summary>
public enum Carrier
{
    /// <summary>The same cache directory, run after run.</summary>
    Local,

    /// <summary>'cache export' after each run and 'cache import' into an empty cache directory, as a CI cache service carries it.</summary>
    Bundle,

    /// <summary>The shared cache: each run on an empty cache directory, fetching what the runs before it pushed.</summary>
    Remote,
}

/// <summary>
/// Plays a scenario: a real git repository, every round's edits, a run over the persistent cache, then
/// the same source cold over an empty cache. Checks the hits against <see cref="OracleModel"/> and every
/// executed step's stdout and output listing against the cold run's.
/// </summary>
[SupportedOSPlatform("linux")]
public static class ScenarioRunner
{
    /// <param name="scenario">What to play.</param>
    /// <param name="under">Where the repository and the caches go (the XFS mount for reflink); null: the system temp dir.</param>
    /// <param name="cancellationToken">Stops between runs.</param>
    /// <param name="carrier">How the entries reach the next run.</param>
    /// <param name="remote">The registry's <c>oci://host</c> for <see cref="Carrier.Remote"/>.</param>
    /// <returns>The first failure, or null.</returns>
    public static async Task<OracleFailure?> RunAsync(
        Scenario scenario, string? under, CancellationToken cancellationToken, Carrier carrier = Carrier.Local, string? remote = null)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        using var harness = new RunHarness(under);
        var caches = harness.Root;
        var warmCache = NewDirectory(caches, "warm");
        var clock = new ManualClock(Scenario.Epoch);
        harness.Clock = clock;
        harness.Env[WorkspaceStrategies.EnvironmentVariable] = scenario.Strategy;

        // A host step's path is <work dir>/host/<hash of project and pipeline>: one work dir and one project
        // give the cold run the same $PWD. Docker's is /workspace, and there two stores must not share image tags.
        harness.Env["HARMONT_WORK_DIR"] = Path.Combine(harness.Root, "work");
        var warm = Pipeline(scenario);
        var cold = scenario.Docker ? Pipeline(scenario) : warm;
        var predicted = OracleModel.Hits(scenario);
        var repo = new ScenarioRepo(harness.Source, cancellationToken);
        var repository = $"{remote}/s{scenario.Seed}-{Guid.NewGuid():N}";
        try
        {
            await repo.CreateAsync(scenario.Files);
            for (var r = 0; r < scenario.Rounds.Count; r++)
            {
                var round = scenario.Rounds[r];
                await repo.ApplyAsync(round, r);
                foreach (var name in Scenario.EnvKeyNames)
                {
                    if (round.Env.GetValueOrDefault(name) is { } value)
                    {
                        harness.Env[name] = value;
                    }
                    else
                    {
                        harness.Env.Remove(name);
                    }
                }

                clock.Now = Scenario.Epoch + round.Clock;
                var expectHit = predicted[r];

                if (carrier == Carrier.Remote)
                {
                    // A machine that starts empty, as CI's do: every hit is fetched.
                    await DropCacheAsync(harness, warmCache, scenario.Docker);
                    warmCache = NewDirectory(caches, "warm");
                    harness.Env["HARMONT_CACHE_REMOTE"] = repository;
                }

                harness.Env["HARMONT_CACHE_DIR"] = warmCache;
                var withCache = await RunOnceAsync(harness, warm, scenario);
                harness.Env.Remove("HARMONT_CACHE_REMOTE");
                if (Check(harness, withCache, r, "run with the cache") is { } failed)
                {
                    return failed;
                }

                if (carrier == Carrier.Remote && withCache.Error.Contains("warning: remote cache", StringComparison.Ordinal))
                {
                    return new OracleFailure(r, "remote", $"run {r}: the shared cache failed\n{Tail(withCache)}");
                }

                if (carrier == Carrier.Bundle)
                {
                    (warmCache, var carried) = await CarryAsync(harness, warmCache, caches, r);
                    if (carried is not null)
                    {
                        return carried;
                    }
                }

                var ran = withCache.Executed.ToHashSet(StringComparer.Ordinal);
                var expectRan = scenario.Steps.Select(s => s.Key).Where(k => !expectHit.Contains(k)).ToHashSet(StringComparer.Ordinal);
                if (!ran.SetEquals(expectRan) || expectHit.Any(k => !withCache.Hit(k)))
                {
                    return new OracleFailure(r, "hits", $"run {r}: steps that ran: [{string.Join(", ", ran.Order())}]; the model expects [{string.Join(", ", expectRan.Order())}]\n{Tail(withCache)}");
                }

                // A run that hit nothing (the first, always) started every step from the source: it is its own cold run.
                if (expectHit.Count == 0)
                {
                    continue;
                }

                var coldCache = NewDirectory(caches, "cold");
                harness.Env["HARMONT_CACHE_DIR"] = coldCache;
                try
                {
                    var reference = await RunOnceAsync(harness, cold, scenario);
                    if (Check(harness, reference, r, "cold run") is { } coldFailed)
                    {
                        return coldFailed;
                    }

                    if (Compare(scenario, r, withCache, reference) is { } differs)
                    {
                        return differs;
                    }
                }
                finally
                {
                    await DropCacheAsync(harness, coldCache, scenario.Docker);
                }
            }

            return null;
        }
        finally
        {
            await DropCacheAsync(harness, warmCache, scenario.Docker);
        }
    }

    // The warm cache exported and imported into an empty directory, which the next round uses.
    private static async Task<(string Cache, OracleFailure? Failure)> CarryAsync(RunHarness harness, string cache, string caches, int round)
    {
        var bundle = Path.Combine(caches, $"round-{round}.tar.zst");
        var export = await harness.RunAsync([], ["cache", "export", bundle]);
        var imported = NewDirectory(caches, "warm");
        harness.Env["HARMONT_CACHE_DIR"] = imported;
        var import = export.ExitCode == 0 ? await harness.RunAsync([], ["cache", "import", bundle]) : export;
        await DropCacheAsync(harness, cache, docker: false);
        File.Delete(bundle);
        return import.ExitCode == 0 && export.ExitCode == 0
            ? (imported, null)
            : (imported, new OracleFailure(round, "bundle", $"run {round}: 'cache export' then 'cache import' failed\n{Tail(export)}\n{Tail(import)}"));
    }

    private static OracleFailure? Compare(Scenario scenario, int round, RunOutcome withCache, RunOutcome cold)
    {
        foreach (var step in withCache.Executed)
        {
            var hot = Stdout(withCache, step);
            var reference = Stdout(cold, step);
            var hits = string.Join(", ", scenario.Steps.Select(s => s.Key).Where(withCache.Hit));
            var where = $"run {round}, step {step} (cache hits in this run: {(hits.Length == 0 ? "none" : hits)})";

            // find lists in directory order, which differs between workspaces: the listing is compared as a map.
            if (Manifest.FirstDifference(Manifest.Parse(hot), Manifest.Parse(reference)) is var (path, left, right))
            {
                return new OracleFailure(round, "workspace",
                    $"{where}: output workspace differs first at '{path}'\n  with hits: {left ?? "(absent)"}\n  cold:      {right ?? "(absent)"}");
            }

            var (own, ownCold) = (Manifest.OwnLines(hot), Manifest.OwnLines(reference));
            if (!own.SequenceEqual(ownCold, StringComparer.Ordinal))
            {
                var line = Enumerable.Range(0, Math.Max(own.Count, ownCold.Count)).First(i => own.ElementAtOrDefault(i) != ownCold.ElementAtOrDefault(i));
                return new OracleFailure(round, "stdout",
                    $"{where}: stdout differs first at line {line + 1}\n  with hits: {own.ElementAtOrDefault(line) ?? "(none)"}\n  cold:      {ownCold.ElementAtOrDefault(line) ?? "(none)"}");
            }
        }

        return null;
    }

    private static OracleFailure? Check(RunHarness harness, RunOutcome outcome, int round, string what)
    {
        if (outcome.ExitCode != 0)
        {
            return new OracleFailure(round, "exit", $"run {round}: the {what} exited {outcome.ExitCode}\n{Tail(outcome)}");
        }

        var mounts = harness.LeftoverMounts();
        return mounts.Count == 0 ? null : new OracleFailure(round, "leak", $"run {round}: the {what} left mounts: {string.Join(", ", mounts)}");
    }

    private static IReadOnlyList<string> Stdout(RunOutcome outcome, string step) =>
        [.. outcome.Events.OfType<StepLog>().Where(e => e.Step == step && !e.IsError).Select(e => e.Line)];

    private static Task<RunOutcome> RunOnceAsync(RunHarness harness, PipelineDefinition pipeline, Scenario scenario) =>
        harness.RunAsync(pipeline, "--runner", scenario.Docker ? "docker" : "host");

    private static string Tail(RunOutcome outcome)
    {
        var lines = outcome.ToString().Split('\n');
        return string.Join('\n', lines.TakeLast(40));
    }

    /// <summary>The scenario's pipeline, with a project identity of its own.</summary>
    private static PipelineDefinition Pipeline(Scenario scenario) => new()
    {
        Slug = "oracle",
        Project = "oracle-" + Guid.NewGuid().ToString("N"),
        Runner = scenario.Docker ? Aot.Runner.Docker : Aot.Runner.Host,
        DefaultImage = BusyboxImage.Image,
        Steps = [.. scenario.Steps.Select(Step)],
    };

    private static StepDefinition Step(StepSpec step)
    {
        var command = Manifest.Command(step.Ops.Select(o => o.Shell));
        return new StepDefinition
        {
            Key = step.Key,
            Label = step.Key,
            Command = () => command,
            ConstantCommand = command,
            From = step.From,
            After = step.After,
            Cache = [.. step.Policies.Select(Policy)],
        };
    }

    private static CachePolicy Policy(PolicySpec policy) => policy.Kind switch
    {
        PolicyKind.Forever => new ForeverCachePolicy(policy.EnvKeys),
        PolicyKind.Ttl => new TtlCachePolicy(policy.Ttl, policy.EnvKeys),
        _ => new OnChangeCachePolicy(policy.Globs),
    };

    private static async Task DropCacheAsync(RunHarness harness, string cache, bool docker)
    {
        harness.Env["HARMONT_CACHE_DIR"] = cache;
        if (docker && Directory.Exists(cache))
        {
            // cache clean takes the entries' images, so the engine keeps nothing of the scenario.
            await harness.RunAsync([], ["cache", "clean"]);
        }

        try
        {
            Aot.Containment.HostileTree.Delete(cache);
        }
        catch (IOException)
        {
            // A leftover here is a test temp dir; the harness's own Dispose tries again.
        }
    }

    private static string NewDirectory(string parent, string name) =>
        Directory.CreateDirectory(Path.Combine(parent, $"{name}-{Guid.NewGuid():N}"[..(name.Length + 13)])).FullName;
}
