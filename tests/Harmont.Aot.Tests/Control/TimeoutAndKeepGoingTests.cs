using Harmont.Aot.Events;

namespace Harmont.Aot.Tests;

public sealed class TimeoutAndKeepGoingTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task Step_timeout_exits_124_marks_it_timed_out_and_skips_its_dependents()
    {
        var pipeline = Define.Pipeline(
            "step-timeout",
            Runner.Host,
            Define.Step("slow", "echo begun && sleep 30", timeout: TimeSpan.FromSeconds(1)),
            Define.Step("after-slow", "echo never", from: "slow"));

        var run = await _harness.RunAsync(pipeline);

        Assert.Equal(124, run.ExitCode);
        Assert.Equal(StepStatus.TimedOut, run.StatusOf("slow"));
        Assert.Contains("exceeded its timeout of 1.00s", run.EndOf("slow").Reason, StringComparison.Ordinal);
        Assert.Equal(StepStatus.Skipped, run.StatusOf("after-slow"));
        var failure = Assert.Single(run.Events.OfType<StepFailure>());
        Assert.Equal("slow", failure.Step);
        Assert.Empty(_harness.LeftoverRunDirs());
        Assert.Empty(_harness.LeftoverMounts());
    }

    [Fact]
    public async Task Build_timeout_stops_running_steps_as_timed_out_and_exits_124()
    {
        var pipeline = new Model.PipelineDefinition
        {
            Slug = "build-timeout",
            Runner = Runner.Host,
            Timeout = TimeSpan.FromSeconds(1),
            Steps = [Define.Step("a", "sleep 30"), Define.Step("b", "echo never", from: "a")],
        };

        var run = await _harness.RunAsync(pipeline);

        Assert.Equal(124, run.ExitCode);
        Assert.Equal(StepStatus.TimedOut, run.StatusOf("a"));
        Assert.Equal(StepStatus.Skipped, run.StatusOf("b"));
        Assert.Contains("timed out (exit 124)", run.Output, StringComparison.Ordinal);
        Assert.Equal("step 'a' stopped: the build timeout passed", Assert.Single(run.Events.OfType<StepFailure>()).Message);
        Assert.Empty(_harness.LeftoverRunDirs());
        Assert.Empty(_harness.LeftoverMounts());
    }

    [Fact]
    public async Task Keep_going_skips_every_transitive_dependent_of_a_failure_and_finishes_the_rest()
    {
        var pipeline = Define.Pipeline(
            "keep-going",
            Runner.Host,
            Define.Step("root", "echo root"),
            Define.Step("broken", "exit 5", from: "root"),
            Define.Step("child", "echo never", from: "broken"),
            Define.Step("grandchild", "echo never", from: "child"),
            Define.Step("waits", "echo never", null, null, "grandchild"),
            Define.Step("sibling", "sleep 1 && echo sibling-done", from: "root"));

        var run = await _harness.RunAsync(pipeline, "--keep-going", "-j", "2");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(StepStatus.Failed, run.StatusOf("broken"));
        Assert.All(["child", "grandchild", "waits"], s => Assert.Equal(StepStatus.Skipped, run.StatusOf(s)));
        Assert.All(["child", "grandchild", "waits"], s => Assert.False(run.Started(s)));
        Assert.Equal(StepStatus.Passed, run.StatusOf("sibling"));
        Assert.Equal(["sibling-done"], run.LogsOf("sibling"));
    }

    [Fact]
    [Trait("Requires", "docker")]
    public async Task Docker_step_timeout_kills_and_removes_its_container()
    {
        await BusyboxImage.EnsureAsync();
        var pipeline = Define.Pipeline(
            "docker-timeout",
            Runner.Docker,
            Define.Step("slow", "echo begun && sleep 60", timeout: TimeSpan.FromSeconds(2)));

        var run = await _harness.RunAsync(pipeline);

        Assert.Equal(124, run.ExitCode);
        Assert.Equal(StepStatus.TimedOut, run.StatusOf("slow"));
        var runId = run.Events.OfType<BuildStarted>().Single().RunId;
        using var client = await DockerTestEngine.ConnectAsync();
        Assert.Empty(await client.ListContainersAsync($"dev.harmont.aot.run={runId}", TestContext.Current.CancellationToken));
        Assert.Empty(_harness.LeftoverRunDirs());
        Assert.Empty(_harness.LeftoverMounts());
    }
}
