using Harmont.Aot.Keys;
using Harmont.Aot.Runners.Host;

namespace Harmont.Aot.Tests;

/// <summary>
/// Host steps see their workspace at one path for the pipeline, in every step and every run, so
/// absolute paths a tool wrote in a parent (CMake's cache) hold in the child, cold and after a hit.
/// </summary>
public sealed class StablePathTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Theory]
    [InlineData(null)]
    [InlineData("serial")]
    public async Task CMake_configure_then_build_in_a_child_step_works_cold_and_over_a_cached_configure(string? isolation)
    {
        SetIsolation(isolation);
        WriteCMakeProject(_harness);

        var cold = await _harness.RunAsync(HostCMake.Definition);
        var warm = await _harness.RunAsync(HostCMake.Definition);

        Assert.True(cold.ExitCode == 0, cold.ToString());
        Assert.Equal(["configured"], cold.LogsOf("configure"));
        Assert.Equal(["hello from cmake"], cold.LogsOf("build"));
        Assert.True(warm.ExitCode == 0, warm.ToString());
        Assert.True(warm.Hit("configure"));
        Assert.Equal(["build"], warm.Executed);
        Assert.Equal(["hello from cmake"], warm.LogsOf("build"));
        AssertNothingLeft(await StablePathAsync("host-cmake"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("serial")]
    public async Task Child_sees_the_pwd_its_parent_recorded_cold_and_after_the_parent_is_a_hit(string? isolation)
    {
        SetIsolation(isolation);
        var stable = await StablePathAsync("host-pwd");

        var cold = await _harness.RunAsync(HostPwd.Definition);
        var warm = await _harness.RunAsync(HostPwd.Definition);

        Assert.True(cold.ExitCode == 0, cold.ToString());
        Assert.Equal([stable], cold.LogsOf("record"));
        Assert.Equal([stable, stable, "same-as-parent"], cold.LogsOf("check"));
        Assert.Equal([Path.Combine(stable, "sub"), stable], cold.LogsOf("in-sub"));
        Assert.True(warm.ExitCode == 0, warm.ToString());
        Assert.True(warm.Hit("record"));
        Assert.Equal([stable, stable, "same-as-parent"], warm.LogsOf("check"));
        Assert.Equal([Path.Combine(stable, "sub"), stable], warm.LogsOf("in-sub"));
        AssertNothingLeft(stable);
    }

    [Fact]
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

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal([stable, "left", "base.txt", "left.txt", "who.txt"], run.LogsOf("left"));
        Assert.Equal([stable, "right", "base.txt", "right.txt", "who.txt"], run.LogsOf("right"));
        AssertNothingLeft(stable);
    }

    [Fact]
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

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal([stable, "left", "base.txt", "who.txt"], run.LogsOf("left"));
        Assert.Equal([stable, "right", "base.txt", "who.txt"], run.LogsOf("right"));
        Assert.Contains($"harmont: host steps of 'host-serial' run one at a time at {stable}: set by HARMONT_HOST_ISOLATION.", run.Error, StringComparison.Ordinal);
        AssertNothingLeft(stable);
    }

    [Fact]
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

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["started"], run.LogsOf("spawns"));
        Assert.All(File.ReadAllLines(pids), pid => Assert.True(IsGone(pid), $"process {pid} outlived its step"));
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
            _harness.WorkDir, await ProjectIdentity.ResolveAsync(null, _harness.Source, TestContext.Current.CancellationToken), slug);

    // The stable path holds nothing between steps: the namespace mode only binds over it, the serial
    // mode moves each workspace back.
    private void AssertNothingLeft(string stable)
    {
        Assert.Empty(_harness.LeftoverRunDirs());
        Assert.Empty(_harness.LeftoverMounts());
        Assert.True(!Directory.Exists(stable) || Directory.GetFileSystemEntries(stable).Length == 0, $"{stable} is not empty");
    }

    private static void WriteCMakeProject(RunHarness harness)
    {
        harness.WriteSource("CMakeLists.txt", "cmake_minimum_required(VERSION 3.10)\nproject(hello C)\nadd_executable(hello hello.c)\n");
        harness.WriteSource("hello.c", "#include <stdio.h>\nint main(void) { puts(\"hello from cmake\"); return 0; }\n");
    }
}
