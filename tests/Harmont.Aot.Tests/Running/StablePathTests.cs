using Harmont.Aot.Keys;
using Harmont.Aot.Runners.Host;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

/// <summary>
/// Host steps see their workspace at one path for the pipeline, in every step and every run, so
/// absolute paths a tool wrote in a parent (CMake's cache) hold in the child, cold and after a hit.
/// </summary>
[NotInParallel(nameof(StablePathTests))]
public sealed class StablePathTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Test]
    [Arguments(null)]
    [Arguments("serial")]
    public async Task CMake_configure_then_build_in_a_child_step_works_cold_and_over_a_cached_configure(string? isolation)
    {
        SetIsolation(isolation);
        WriteCMakeProject(_harness);

        var cold = await _harness.RunAsync(HostCMake.Definition);
        var warm = await _harness.RunAsync(HostCMake.Definition);

        await Assert.That(cold.ExitCode == 0).IsTrue().Because(cold.ToString());
        await Assert.That(cold.LogsOf("configure")).IsEquivalentTo((IEnumerable<string>)["configured"], CollectionOrdering.Matching);
        await Assert.That(cold.LogsOf("build")).IsEquivalentTo((IEnumerable<string>)["hello from cmake"], CollectionOrdering.Matching);
        await Assert.That(warm.ExitCode == 0).IsTrue().Because(warm.ToString());
        await Assert.That(warm.Hit("configure")).IsTrue();
        await Assert.That(warm.Executed).IsEquivalentTo((IEnumerable<string>)["build"], CollectionOrdering.Matching);
        await Assert.That(warm.LogsOf("build")).IsEquivalentTo((IEnumerable<string>)["hello from cmake"], CollectionOrdering.Matching);
        await AssertNothingLeft(await StablePathAsync("host-cmake"));
    }

    [Test]
    [Arguments(null)]
    [Arguments("serial")]
    public async Task Child_sees_the_pwd_its_parent_recorded_cold_and_after_the_parent_is_a_hit(string? isolation)
    {
        SetIsolation(isolation);
        var stable = await StablePathAsync("host-pwd");

        var cold = await _harness.RunAsync(HostPwd.Definition);
        var warm = await _harness.RunAsync(HostPwd.Definition);

        await Assert.That(cold.ExitCode == 0).IsTrue().Because(cold.ToString());
        await Assert.That(cold.LogsOf("record")).IsEquivalentTo((IEnumerable<string>)[stable], CollectionOrdering.Matching);
        await Assert.That(cold.LogsOf("check")).IsEquivalentTo((IEnumerable<string>)[stable, stable, "same-as-parent"], CollectionOrdering.Matching);
        await Assert.That(cold.LogsOf("in-sub"))
            .IsEquivalentTo((IEnumerable<string>)[Path.Combine(stable, "sub"), stable], CollectionOrdering.Matching);
        await Assert.That(warm.ExitCode == 0).IsTrue().Because(warm.ToString());
        await Assert.That(warm.Hit("record")).IsTrue();
        await Assert.That(warm.LogsOf("check")).IsEquivalentTo((IEnumerable<string>)[stable, stable, "same-as-parent"], CollectionOrdering.Matching);
        await Assert.That(warm.LogsOf("in-sub"))
            .IsEquivalentTo((IEnumerable<string>)[Path.Combine(stable, "sub"), stable], CollectionOrdering.Matching);
        await AssertNothingLeft(stable);
    }

    [Test]
    public async Task Parallel_siblings_each_write_at_the_stable_path_without_seeing_each_others_writes()
    {
        // Each sibling writes, then waits until the other has written too, then reads: they overlap
        // for certain, and a shared path would show the other's write. Serial steps could never meet.
        var meet = Directory.CreateDirectory(Path.Combine(_harness.Root, "meet")).FullName;
        string Side(string me, string other) =>
            $"pwd -P && echo {me} > \"$PWD/who.txt\" && echo {me} > \"$PWD/{me}.txt\" && touch {meet}/{me} && " +
            $"i=0; while [ ! -e {meet}/{other} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; " +
            $"[ -e {meet}/{other} ] || {{ echo never-met; exit 3; }}; cat \"$PWD/who.txt\" && ls \"$PWD\"";
        var pipeline = Define.Pipeline(
            "host-siblings",
            Runner.Host,
            Define.Step("base", "echo base > base.txt"),
            Define.Step("left", Side("left", "right"), from: "base"),
            Define.Step("right", Side("right", "left"), from: "base"));
        var stable = await StablePathAsync("host-siblings");

        var run = await _harness.RunAsync(pipeline, "-j", "2");

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(run.LogsOf("left"))
            .IsEquivalentTo((IEnumerable<string>)[stable, "left", "base.txt", "left.txt", "who.txt"], CollectionOrdering.Matching);
        await Assert.That(run.LogsOf("right"))
            .IsEquivalentTo((IEnumerable<string>)[stable, "right", "base.txt", "right.txt", "who.txt"], CollectionOrdering.Matching);
        await AssertNothingLeft(stable);
    }

    [Test]
    public async Task Serial_fallback_runs_a_pipelines_host_steps_one_at_a_time_and_says_why()
    {
        SetIsolation("serial");
        // mkdir is atomic: a sibling running at the same time would find the other's claim.
        var claim = Path.Combine(_harness.Root, "claim");
        string Side(string me) => $"mkdir {claim} && pwd -P && echo {me} > who.txt && sleep 0.5 && cat who.txt && ls && rmdir {claim}";
        var pipeline = Define.Pipeline(
            "host-serial",
            Runner.Host,
            Define.Step("base", "echo base > base.txt"),
            Define.Step("left", Side("left"), from: "base"),
            Define.Step("right", Side("right"), from: "base"));
        var stable = await StablePathAsync("host-serial");

        var run = await _harness.RunAsync(pipeline, "-j", "2");

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(run.LogsOf("left"))
            .IsEquivalentTo((IEnumerable<string>)[stable, "left", "base.txt", "who.txt"], CollectionOrdering.Matching);
        await Assert.That(run.LogsOf("right"))
            .IsEquivalentTo((IEnumerable<string>)[stable, "right", "base.txt", "who.txt"], CollectionOrdering.Matching);
        await Assert.That(run.Error)
            .Contains($"harmont: host steps of 'host-serial' run one at a time at {stable}: set by HARMONT_HOST_ISOLATION.", StringComparison.Ordinal);
        await AssertNothingLeft(stable);
    }

    [Test]
    public async Task What_a_step_starts_in_the_background_ends_with_it_and_does_not_hold_it_open()
    {
        // A build server left in a step's namespace would serve later steps the tree that step saw.
        var pids = Path.Combine(_harness.Root, "pids");
        var pipeline = Define.Pipeline(
            "host-leftovers",
            Runner.Host,
            Define.Step(
                "spawns",
                $"(sleep 120; echo late) & echo $! > {pids}; " +
                $"setsid sh -c 'echo $$ >> {pids}; exec sleep 120' < /dev/null > /dev/null 2>&1 & " +
                $"while [ $(wc -l < {pids}) -lt 2 ]; do sleep 0.05; done; echo started"));

        var run = await _harness.RunAsync(pipeline);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(run.LogsOf("spawns")).IsEquivalentTo((IEnumerable<string>)["started"], CollectionOrdering.Matching);
        foreach (var pid in File.ReadAllLines(pids))
        {
            await Assert.That(IsGone(pid)).IsTrue().Because($"process {pid} outlived its step");
        }
    }

    // Dead, or a zombie waiting for an init that does not reap.
    internal static bool IsGone(string pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.Trim()}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return true;
        }
    }

    private void SetIsolation(string? isolation)
    {
        if (isolation is not null)
        {
            _harness.Env[HostIsolation.EnvironmentVariable] = isolation;
        }
    }

    private async Task<string> StablePathAsync(string slug) =>
        StableWorkspace.PathFor(
            _harness.WorkDir, await ProjectIdentity.ResolveAsync(null, _harness.Source, TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None), slug);

    // The stable path holds nothing between steps: the namespace mode only binds over it, the serial
    // mode moves each workspace back.
    private async Task AssertNothingLeft(string stable)
    {
        await Assert.That(_harness.LeftoverRunDirs()).IsEmpty();
        await Assert.That(_harness.LeftoverMounts()).IsEmpty();
        await Assert.That(!Directory.Exists(stable) || Directory.GetFileSystemEntries(stable).Length == 0).IsTrue().Because($"{stable} is not empty");
    }

    private static void WriteCMakeProject(RunHarness harness)
    {
        harness.WriteSource("CMakeLists.txt", "cmake_minimum_required(VERSION 3.10)\nproject(hello C)\nadd_executable(hello hello.c)\n");
        harness.WriteSource("hello.c", "#include <stdio.h>\nint main(void) { puts(\"hello from cmake\"); return 0; }\n");
    }
}
