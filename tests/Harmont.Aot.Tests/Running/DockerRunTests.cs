using Harmont.Aot.Events;
using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests;

[Trait("Requires", "docker")]
public sealed class DockerRunTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task Child_sees_parent_workspace_and_committed_system_state()
    {
        await BusyboxImage.EnsureAsync();
        _harness.WriteSource("source.txt", "from-source\n");

        var run = await _harness.RunAsync(DockerChain.Definition);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["from-setup", "tool-v1"], run.LogsOf("build"));
        Assert.Equal(["from-setup", "from-build", "tool-v1", "from-source", "hello from env"], run.LogsOf("verify"));
        Assert.All(["setup", "build", "verify"], s => Assert.Equal("docker", run.StartOf(s).Backend));
        Assert.Contains("[verify", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_leaves_user_tree_untouched_and_cleans_up_containers_images_and_workspaces()
    {
        await BusyboxImage.EnsureAsync();
        _harness.WriteSource("source.txt", "from-source\n");
        var before = Directory.GetFileSystemEntries(_harness.Source, "*", SearchOption.AllDirectories);

        var run = await _harness.RunAsync(DockerChain.Definition);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(before, Directory.GetFileSystemEntries(_harness.Source, "*", SearchOption.AllDirectories));
        Assert.Equal("from-source\n", await File.ReadAllTextAsync(Path.Combine(_harness.Source, "source.txt"), TestContext.Current.CancellationToken));
        Assert.Empty(_harness.LeftoverRunDirs());

        var runId = run.Events.OfType<BuildStarted>().Single().RunId;
        using var client = await DockerTestEngine.ConnectAsync();
        var label = $"dev.harmont.aot.run={runId}";
        Assert.Empty(await client.ListContainersAsync(label, TestContext.Current.CancellationToken));
        Assert.Empty(await client.ListImagesAsync(label, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Forked_siblings_run_at_the_same_time_and_do_not_see_each_others_writes()
    {
        await BusyboxImage.EnsureAsync();

        var run = await _harness.RunAsync(DockerFork.Definition, "--parallelism", "2");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["base", "isolated"], run.LogsOf("left"));
        Assert.Equal(["base", "isolated"], run.LogsOf("right"));
        var (left, right) = (run.StartOf("left").At, run.StartOf("right").At);
        var (leftEnd, rightEnd) = (run.EndOf("left").At, run.EndOf("right").At);
        Assert.True(left < rightEnd && right < leftEnd, $"left {left:O}–{leftEnd:O} and right {right:O}–{rightEnd:O} did not overlap");
    }

    [Fact]
    public async Task Failing_step_exits_1_shows_its_output_and_its_dependents_never_start()
    {
        await BusyboxImage.EnsureAsync();

        var run = await _harness.RunAsync(DockerFail.Definition);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(StepStatus.Failed, run.StatusOf("broken"));
        Assert.Equal(3, run.EndOf("broken").ExitCode);
        Assert.Contains("about to fail", run.Output, StringComparison.Ordinal);
        Assert.Contains("details on stderr", run.Output, StringComparison.Ordinal);
        Assert.False(run.Started("downstream"));
        Assert.False(run.Started("waiter"));
        Assert.Equal(StepStatus.Skipped, run.StatusOf("downstream"));
        Assert.Equal(StepStatus.Skipped, run.StatusOf("waiter"));
        Assert.Empty(_harness.LeftoverRunDirs());
    }
}
