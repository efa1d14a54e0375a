using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using System.Text;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Tests.Oracle;

/// <summary>
/// Chooses the seeds to play (the fixed CI set, <c>HARMONT_ORACLE_SOAK=N</c> fresh ones, or
/// <c>HARMONT_ORACLE_SEED=S</c> alone), plays them a few at a time, and turns failures into one report
/// with the first failure shrunk to a minimal reproduction.
/// </summary>
[SupportedOSPlatform("linux")]
public static class OracleDriver
{
    /// <summary>
    /// Whether host steps may write <c>$PWD</c> into the workspace: they run at one stable path per pipeline,
    /// so a cached and a cold run agree on it. <c>HARMONT_ORACLE_HOST_PWD=0</c> turns it off (a product whose
    /// host steps run in a per-run directory). Docker always has <c>/workspace</c>.
    /// </summary>
    public const bool HostPwdSteps = true;

    private static readonly int Parallelism = int.TryParse(Environment.GetEnvironmentVariable("HARMONT_ORACLE_JOBS"), out var jobs) && jobs > 0 ? jobs : 2;

    /// <summary>Plays the backend's scenarios and fails with a report when any differs.</summary>
    /// <param name="docker">Which backend.</param>
    /// <param name="ciCount">How many scenarios CI plays.</param>
    /// <param name="reflinkDir">A directory on a reflink filesystem: the reflink strategy's repositories and caches go there.</param>
    /// <param name="carrier">How each run gets the entries the runs before it recorded.</param>
    /// <param name="remote">For <see cref="Carrier.Remote"/>: the registry, as <c>oci://host/prefix</c>.</param>
    public static async Task PlayAsync(bool docker, int ciCount, string reflinkDir, Carrier carrier = Carrier.Local, string? remote = null)
    {
        var cancellationToken = TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None;
        var seeds = Seeds(docker, ciCount, out var note);
        var clock = Stopwatch.StartNew();
        var failures = new ConcurrentBag<(Scenario Scenario, OracleFailure Failure)>();
        await Parallel.ForEachAsync(
            seeds,
            new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (seed, ct) =>
            {
                var scenario = Generate(seed, docker);
                if (await PlayOneAsync(scenario, reflinkDir, ct, carrier, remote) is { } failure)
                {
                    failures.Add((scenario, failure));
                }
            });

        if (failures.IsEmpty)
        {
            var linked = seeds.Count(seed => Generate(seed, docker).Steps.SelectMany(s => s.Ops).Any(o => o.Shell.Contains("ln -s /", StringComparison.Ordinal)));
            TestContext.Current?.Output.WriteLine(
                $"{seeds.Count} scenarios equal cold runs (cache carried: {carrier}); {linked} of them make absolute links; played in {clock.Elapsed.TotalSeconds:F0} s.");
            return;
        }

        var sorted = failures.OrderBy(f => f.Scenario.Seed).ToList();
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"{sorted.Count} of {seeds.Count} scenarios differ from a cold run{note} (cache carried: {carrier}); played in {clock.Elapsed.TotalSeconds:F0} s.");
        report.AppendLine("failing seeds: " + string.Join(" ", sorted.Select(f => $"{f.Scenario.Seed}({f.Failure.Kind})")));
        var (first, failed) = sorted[0];
        if (Environment.GetEnvironmentVariable("HARMONT_ORACLE_SHRINK") == "0")
        {
            report.AppendLine(failed.Message).AppendLine().Append(first.Describe());
            Assert.Fail(report.ToString());
        }

        var (small, smallFailure) = await Shrinker.ShrinkAsync(first, failed, s => PlayOneAsync(s, reflinkDir, cancellationToken, carrier, remote));
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"first failure, seed {first.Seed}, shrunk (replay: {first.ReplayHint}):");
        report.AppendLine(smallFailure.Message);
        report.AppendLine();
        report.Append(small.Describe());
        Assert.Fail(report.ToString());
    }

    public static Scenario Generate(int seed, bool docker)
    {
        var strategy = WorkspaceStrategies.Names[(int)((uint)seed % (uint)WorkspaceStrategies.Names.Count)];
        var pwd = docker || (HostPwdSteps && Environment.GetEnvironmentVariable("HARMONT_ORACLE_HOST_PWD") != "0");
        return ScenarioGenerator.Generate(seed, docker, strategy, pwd);
    }

    public static async Task<OracleFailure?> PlayOneAsync(
        Scenario scenario, string reflinkDir, CancellationToken cancellationToken, Carrier carrier = Carrier.Local, string? remote = null)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var under = scenario.Strategy == WorkspaceStrategies.Reflink ? reflinkDir : null;
        try
        {
            return await ScenarioRunner.RunAsync(scenario, under, cancellationToken, carrier, remote);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Reported with its seed like any other failure, instead of ending the whole batch.
            return new OracleFailure(scenario.Rounds.Count - 1, "error", ex.ToString());
        }
    }

    private static List<int> Seeds(bool docker, int ciCount, out string note)
    {
        note = "";
        var one = Environment.GetEnvironmentVariable("HARMONT_ORACLE_SEED");
        if (!string.IsNullOrWhiteSpace(one))
        {
            var isDocker = one.StartsWith("docker:", StringComparison.Ordinal);
            var seed = int.Parse(isDocker ? one["docker:".Length..] : one, CultureInfo.InvariantCulture);
            return isDocker == docker ? [seed] : [];
        }

        var soak = Environment.GetEnvironmentVariable("HARMONT_ORACLE_SOAK");
        if (!docker && int.TryParse(soak, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count > 0)
        {
            var start = int.TryParse(Environment.GetEnvironmentVariable("HARMONT_ORACLE_SOAK_FROM"), CultureInfo.InvariantCulture, out var from)
                ? from
                : Random.Shared.Next(1_000_000, 1_000_000_000);
            note = $" (soak from seed {start})";
            return [.. Enumerable.Range(start, count)];
        }

        // CI plays a fixed set: a failure there replays with its seed.
        return [.. Enumerable.Range(docker ? 10_001 : 1, ciCount)];
    }
}
