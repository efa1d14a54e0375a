using Harmont.Aot.Events;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

[NotInParallel(nameof(TimeoutAndKeepGoingTests))]
public sealed class TimeoutAndKeepGoingTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Test]
    public async Task Step_timeout_exits_124_marks_it_timed_out_and_skips_its_dependents()
    {
        var pipeline = Define.Pipeline(
            "step-timeout",
            Runner.Host,
            Define.Step("slow", "echo begun && sleep 30", timeout: TimeSpan.FromSeconds(1)),
            Define.Step("after-slow", "echo never", from: "slow"));

        var run = await _harness.RunAsync(pipeline);

        await Assert.That(run.ExitCode).IsEqualTo(124);
        await Assert.That(run.StatusOf("slow")).IsEqualTo(StepStatus.TimedOut);
        await Assert.That(run.EndOf("slow").Reason).Contains("exceeded its timeout of 1.00s", StringComparison.Ordinal);
        await Assert.That(run.StatusOf("after-slow")).IsEqualTo(StepStatus.Skipped);
        var failure = await Assert.That(run.Events.OfType<StepFailure>()).HasSingleItem();
        await Assert.That(failure.Step).IsEqualTo("slow");
        await Assert.That(_harness.LeftoverRunDirs()).IsEmpty();
        await Assert.That(_harness.LeftoverMounts()).IsEmpty();
    }

    [Test]
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

        await Assert.That(run.ExitCode).IsEqualTo(124);
        await Assert.That(run.StatusOf("a")).IsEqualTo(StepStatus.TimedOut);
        await Assert.That(run.StatusOf("b")).IsEqualTo(StepStatus.Skipped);
        await Assert.That(run.Output).Contains("timed out (exit 124)", StringComparison.Ordinal);
        await Assert.That((await Assert.That(run.Events.OfType<StepFailure>()).HasSingleItem()).Message)
            .IsEqualTo("step 'a' stopped: the build timeout passed");
        await Assert.That(_harness.LeftoverRunDirs()).IsEmpty();
        await Assert.That(_harness.LeftoverMounts()).IsEmpty();
    }

    [Test]
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

        await Assert.That(run.ExitCode).IsEqualTo(1);
        await Assert.That(run.StatusOf("broken")).IsEqualTo(StepStatus.Failed);
        foreach (var s in new[] { "child", "grandchild", "waits" })
        {
            await Assert.That(run.StatusOf(s)).IsEqualTo(StepStatus.Skipped);
        }
        foreach (var s in new[] { "child", "grandchild", "waits" })
        {
            await Assert.That(run.Started(s)).IsFalse();
        }
        await Assert.That(run.StatusOf("sibling")).IsEqualTo(StepStatus.Passed);
        await Assert.That(run.LogsOf("sibling")).IsEquivalentTo((IEnumerable<string>)["sibling-done"], CollectionOrdering.Matching);
    }

    [Test]
    [Property("Requires", "docker")]
    public async Task Docker_step_timeout_kills_and_removes_its_container(CancellationToken cancellationToken)
    {
        await BusyboxImage.EnsureAsync();
        var pipeline = Define.Pipeline(
            "docker-timeout",
            Runner.Docker,
            Define.Step("slow", "echo begun && sleep 60", timeout: TimeSpan.FromSeconds(2)));

        var run = await _harness.RunAsync(pipeline);

        await Assert.That(run.ExitCode).IsEqualTo(124);
        await Assert.That(run.StatusOf("slow")).IsEqualTo(StepStatus.TimedOut);
        var runId = run.Events.OfType<BuildStarted>().Single().RunId;
        using var client = await DockerTestEngine.ConnectAsync();
        await Assert.That(await client.ContainersLeftAsync($"dev.harmont.aot.run={runId}", cancellationToken)).IsEmpty();
        await Assert.That(_harness.LeftoverRunDirs()).IsEmpty();
        await Assert.That(_harness.LeftoverMounts()).IsEmpty();
    }
}
