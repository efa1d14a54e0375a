using System.Globalization;
using Harmont.Aot.Cache;
using Harmont.Aot.Events;
using Harmont.Aot.Model;
using Harmont.Aot.Runners.Docker;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests.Cache;

/// <summary>
/// The cache on a real Docker engine: a cached step's image is tagged from its key and outlives the run;
/// a hit starts no container; an image deleted behind the cache's back turns the entry into a miss.
/// </summary>
[Trait("Requires", "docker")]
public sealed class DockerCacheTests : IAsyncLifetime
{
    private readonly RunHarness _harness = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await BusyboxImage.EnsureAsync();

    public async ValueTask DisposeAsync()
    {
        // cache clean takes the entries' images with them, so the engine keeps nothing of this test.
        await _harness.RunAsync([], ["cache", "clean"]);
        _harness.Dispose();
    }

    private static PipelineDefinition Chain() => Pipeline(
        "docker-cache",
        Runner.Docker,
        Cached("a", "echo made-by-a > a.out && echo system-a > /etc/a-mark", null, Forever()),
        Cached("b", "cat a.out > b.out && echo made-by-b >> b.out", "a", Forever()),
        Step("c", "cat input.txt b.out /etc/a-mark; if [ -e doomed.txt ]; then echo doomed-still-here; else echo doomed-gone; fi", "b"));

    [Fact]
    public async Task Hits_start_no_container_and_their_child_gets_the_new_source_over_the_cached_output_and_image()
    {
        _harness.WriteSource("input.txt", "v1\n");
        _harness.WriteSource("doomed.txt", "present\n");
        var first = await _harness.RunAsync(Chain());
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(["v1", "made-by-a", "made-by-b", "system-a", "doomed-still-here"], first.LogsOf("c"));

        _harness.WriteSource("input.txt", "v2\n");
        File.Delete(Path.Combine(_harness.Source, "doomed.txt"));
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        var second = await _harness.RunAsync(Chain());
        var until = DateTimeOffset.UtcNow.AddSeconds(1);

        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.True(second.Hit("a") && second.Hit("b"), second.ToString());
        Assert.Equal(["c"], second.Executed);
        Assert.Equal(["v2", "made-by-a", "made-by-b", "system-a", "doomed-gone"], second.LogsOf("c"));

        // The engine's own event log: in the whole second run, containers were created for c only.
        var runId = second.Events.OfType<BuildStarted>().Single().RunId;
        var created = await ContainerEventsAsync(runId, since, until);
        Assert.Equal(["c"], created);
    }

    [Fact]
    public async Task A_cached_parents_image_is_tagged_from_its_key_is_not_ephemeral_and_outlives_the_run()
    {
        var run = await _harness.RunAsync(Pipeline(
            "docker-cache-tag",
            Runner.Docker,
            Cached("tool", "echo tool > /tool", null, Forever()),
            Step("use", "cat /tool", "tool")));
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["tool"], run.LogsOf("use"));

        var entry = Assert.Single(new CacheStore(_harness.Cache, TimeProvider.System).List()).Entry;
        using var client = await DockerTestEngine.ConnectAsync();
        var image = await client.InspectImageAsync(DockerNames.CacheReference(entry.Key), Ct);
        Assert.NotNull(image);
        Assert.Equal(entry.Image, image.Id);
        Assert.Equal("0", image.Config!.Labels![DockerNames.EphemeralLabel]);
    }

    [Fact]
    public async Task An_image_deleted_behind_the_caches_back_drops_the_entry_and_the_step_runs_again()
    {
        _harness.WriteSource("input.txt", "v1\n");
        Assert.Equal(0, (await _harness.RunAsync(Chain())).ExitCode);
        var store = new CacheStore(_harness.Cache, TimeProvider.System);
        var a = store.List().Single(l => l.Entry.Step == "a").Entry;

        using (var client = await DockerTestEngine.ConnectAsync())
        {
            // b's image stacks on a's layers, so only the tag can go; by its id, a's image is gone to any lookup by id.
            await client.RemoveImageAsync(DockerNames.CacheReference(a.Key), force: true, Ct);
            var b = store.List().Single(l => l.Entry.Step == "b").Entry;
            await client.RemoveImageAsync(DockerNames.CacheReference(b.Key), force: true, Ct);
            await client.RemoveImageAsync(a.Image!, force: true, Ct);
            Assert.Null(await client.InspectImageAsync(a.Image!, Ct));
        }

        var rerun = await _harness.RunAsync(Chain());

        Assert.True(rerun.ExitCode == 0, rerun.ToString());
        Assert.Equal(["a", "b", "c"], rerun.Executed);
        Assert.Contains(rerun.LogsOf("a"), l => l.Contains("dropped: its image", StringComparison.Ordinal) && l.Contains("no longer on the engine", StringComparison.Ordinal));
        Assert.Equal(["v1", "made-by-a", "made-by-b", "system-a", "doomed-gone"], rerun.LogsOf("c"));

        var third = await _harness.RunAsync(Chain());
        Assert.True(third.Hit("a") && third.Hit("b"), third.ToString());
    }

    [Fact]
    public async Task A_cached_leaf_keeps_its_image_tagged_from_its_key_and_counts_it_in_the_entry_size()
    {
        var run = await _harness.RunAsync(Pipeline(
            "docker-cache-leaf",
            Runner.Docker,
            Cached("leaf", "head -c 300000 /dev/zero > /big.bin && echo out > out.txt", null, Forever())));
        Assert.True(run.ExitCode == 0, run.ToString());

        var entry = Assert.Single(new CacheStore(_harness.Cache, TimeProvider.System).List()).Entry;
        Assert.True(entry.HasWorkspace);
        Assert.NotNull(entry.Image);
        Assert.InRange(entry.ImageSize, 300_000, 400_000);
        Assert.True(entry.Size >= entry.ImageSize);
        using var client = await DockerTestEngine.ConnectAsync();
        var image = await client.InspectImageAsync(DockerNames.CacheReference(entry.Key), Ct);
        Assert.Equal(entry.Image, image?.Id);
    }

    [Fact]
    public async Task Two_runs_racing_on_one_step_leave_one_entry_whose_image_holds_the_tag_and_no_other_image()
    {
        var pipeline = Pipeline(
            "docker-cache-race",
            Runner.Docker,
            Cached("racer", "sleep 1 && date +%s%N > /stamp", null, Forever()),
            Step("use", "cat /stamp", "racer"));

        var runs = await Task.WhenAll(_harness.RunAsync(pipeline), _harness.RunAsync(pipeline));

        Assert.All(runs, r => Assert.True(r.ExitCode == 0, r.ToString()));
        Assert.All(runs, r => Assert.Equal(["racer", "use"], r.Executed));
        Assert.Contains(runs, r => r.LogsOf("racer").Any(l => l.Contains("another run cached this step's result first", StringComparison.Ordinal)));
        var entry = Assert.Single(new CacheStore(_harness.Cache, TimeProvider.System).List()).Entry;
        using var client = await DockerTestEngine.ConnectAsync();
        Assert.Equal(entry.Image, (await client.InspectImageAsync(DockerNames.CacheReference(entry.Key), Ct))?.Id);

        // The loser's commit went with its run: of both runs' images, only the entry's is left.
        var left = new List<string>();
        foreach (var runId in runs.Select(r => r.Events.OfType<BuildStarted>().Single().RunId))
        {
            left.AddRange((await client.ListImagesAsync([$"{DockerNames.OwnerLabel}=1", $"{DockerNames.RunLabel}={runId}"], Ct)).Select(i => i.Id));
        }

        Assert.Equal([entry.Image!], left);
        var rerun = await _harness.RunAsync(pipeline);
        Assert.True(rerun.Hit("racer"), rerun.ToString());
    }

    // Steps whose containers the engine reports as created between the two times, for one run.
    private static async Task<IReadOnlyList<string>> ContainerEventsAsync(string runId, DateTimeOffset since, DateTimeOffset until)
    {
        var (exit, output) = await Exec.RunAsync(
            "docker",
            [
                "events",
                "--since", since.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
                "--until", until.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
                "--filter", "type=container", "--filter", "event=create",
                "--filter", $"label={DockerNames.RunLabel}={runId}",
                "--format", $"{{{{index .Actor.Attributes \"{DockerNames.StepLabel}\"}}}}",
            ],
            Environment.CurrentDirectory,
            Ct);
        Assert.Equal(0, exit);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }
}
