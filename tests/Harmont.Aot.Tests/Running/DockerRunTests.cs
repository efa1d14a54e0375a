using Harmont.Aot.Events;
using Harmont.Aot.Runners.Docker;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

[Property("Requires", "docker")]
[NotInParallel(nameof(DockerRunTests))]
public sealed class DockerRunTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Test]
    public async Task Child_sees_parent_workspace_and_committed_system_state()
    {
        await BusyboxImage.EnsureAsync();
        _harness.WriteSource("source.txt", "from-source\n");

        var run = await _harness.RunAsync(DockerChain.Definition);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(run.LogsOf("build")).IsEquivalentTo((IEnumerable<string>)["from-setup", "tool-v1"], CollectionOrdering.Matching);
        await Assert.That(run.LogsOf("verify"))
            .IsEquivalentTo((IEnumerable<string>)["from-setup", "from-build", "tool-v1", "from-source", "hello from env"], CollectionOrdering.Matching);
        foreach (var s in new[] { "setup", "build", "verify" })
        {
            await Assert.That(run.StartOf(s).Backend).IsEqualTo("docker");
        }
        await Assert.That(run.Output).Contains("[verify", StringComparison.Ordinal);
    }

    [Test]
    public async Task Run_leaves_user_tree_untouched_and_cleans_up_containers_images_and_workspaces(CancellationToken cancellationToken)
    {
        await BusyboxImage.EnsureAsync();
        _harness.WriteSource("source.txt", "from-source\n");
        var before = Directory.GetFileSystemEntries(_harness.Source, "*", SearchOption.AllDirectories);

        var run = await _harness.RunAsync(DockerChain.Definition);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(Directory.GetFileSystemEntries(_harness.Source, "*", SearchOption.AllDirectories))
            .IsEquivalentTo(before, CollectionOrdering.Matching);
        await Assert.That(await File.ReadAllTextAsync(Path.Combine(_harness.Source, "source.txt"), cancellationToken)).IsEqualTo("from-source\n");
        await Assert.That(_harness.LeftoverRunDirs()).IsEmpty();

        var runId = run.Events.OfType<BuildStarted>().Single().RunId;
        using var client = await DockerTestEngine.ConnectAsync();
        var label = $"dev.harmont.aot.run={runId}";
        await Assert.That(await client.ContainersLeftAsync(label, cancellationToken)).IsEmpty();
        await Assert.That(await client.ListImagesAsync(label, cancellationToken)).IsEmpty();
    }

    [Test]
    public async Task Forked_siblings_run_at_the_same_time_and_do_not_see_each_others_writes()
    {
        await BusyboxImage.EnsureAsync();

        var run = await _harness.RunAsync(DockerFork.Definition, "--parallelism", "2");

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(run.LogsOf("left")).IsEquivalentTo((IEnumerable<string>)["base", "isolated"], CollectionOrdering.Matching);
        await Assert.That(run.LogsOf("right")).IsEquivalentTo((IEnumerable<string>)["base", "isolated"], CollectionOrdering.Matching);
        var (left, right) = (run.StartOf("left").At, run.StartOf("right").At);
        var (leftEnd, rightEnd) = (run.EndOf("left").At, run.EndOf("right").At);
        await Assert.That(left < rightEnd && right < leftEnd)
            .IsTrue()
            .Because($"left {left:O}–{leftEnd:O} and right {right:O}–{rightEnd:O} did not overlap");
    }

    [Test]
    public async Task Failing_step_exits_1_shows_its_output_and_its_dependents_never_start()
    {
        await BusyboxImage.EnsureAsync();

        var run = await _harness.RunAsync(DockerFail.Definition);

        await Assert.That(run.ExitCode).IsEqualTo(1);
        await Assert.That(run.StatusOf("broken")).IsEqualTo(StepStatus.Failed);
        await Assert.That(run.EndOf("broken").ExitCode).IsEqualTo(3);
        await Assert.That(run.Output).Contains("about to fail", StringComparison.Ordinal);
        await Assert.That(run.Output).Contains("details on stderr", StringComparison.Ordinal);
        await Assert.That(run.Started("downstream")).IsFalse();
        await Assert.That(run.Started("waiter")).IsFalse();
        await Assert.That(run.StatusOf("downstream")).IsEqualTo(StepStatus.Skipped);
        await Assert.That(run.StatusOf("waiter")).IsEqualTo(StepStatus.Skipped);
        await Assert.That(_harness.LeftoverRunDirs()).IsEmpty();
    }
}
