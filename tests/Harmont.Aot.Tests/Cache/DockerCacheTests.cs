using System.Globalization;
using Harmont.Aot.Cache;
using Harmont.Aot.Events;
using Harmont.Aot.Model;
using Harmont.Aot.Runners.Docker;
using TUnit.Assertions.Enums;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests.Cache;

/// <summary>
/// The cache on a real Docker engine: a cached step's image is tagged from its key and outlives the run;
/// a hit starts no container; an image deleted behind the cache's back turns the entry into a miss.
/// </summary>
[Property("Requires", "docker")]
[NotInParallel(nameof(DockerCacheTests))]
public sealed class DockerCacheTests : IAsyncDisposable
{
    private readonly RunHarness _harness = new();

    private static CancellationToken Ct => TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None;

    [Before(Test)]
    public async Task InitializeAsync() => await BusyboxImage.EnsureAsync();

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

    [Test]
    public async Task Hits_start_no_container_and_their_child_gets_the_new_source_over_the_cached_output_and_image()
    {
        _harness.WriteSource("input.txt", "v1\n");
        _harness.WriteSource("doomed.txt", "present\n");
        var first = await _harness.RunAsync(Chain());
        await Assert.That(first.ExitCode == 0).IsTrue().Because(first.ToString());
        await Assert.That(first.LogsOf("c"))
            .IsEquivalentTo((IEnumerable<string>)["v1", "made-by-a", "made-by-b", "system-a", "doomed-still-here"], CollectionOrdering.Matching);

        _harness.WriteSource("input.txt", "v2\n");
        File.Delete(Path.Combine(_harness.Source, "doomed.txt"));
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        var second = await _harness.RunAsync(Chain());
        var until = DateTimeOffset.UtcNow.AddSeconds(1);

        await Assert.That(second.ExitCode == 0).IsTrue().Because(second.ToString());
        await Assert.That(second.Hit("a") && second.Hit("b")).IsTrue().Because(second.ToString());
        await Assert.That(second.Executed).IsEquivalentTo((IEnumerable<string>)["c"], CollectionOrdering.Matching);
        await Assert.That(second.LogsOf("c"))
            .IsEquivalentTo((IEnumerable<string>)["v2", "made-by-a", "made-by-b", "system-a", "doomed-gone"], CollectionOrdering.Matching);

        // The engine's own event log: in the whole second run, containers were created for c only.
        var runId = second.Events.OfType<BuildStarted>().Single().RunId;
        var created = await ContainerEventsAsync(runId, since, until);
        await Assert.That(created).IsEquivalentTo((IEnumerable<string>)["c"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task A_cached_parents_image_is_tagged_from_its_key_is_not_ephemeral_and_outlives_the_run(CancellationToken cancellationToken)
    {
        var run = await _harness.RunAsync(Pipeline(
            "docker-cache-tag",
            Runner.Docker,
            Cached("tool", "echo tool > /tool", null, Forever()),
            Step("use", "cat /tool", "tool")));
        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(run.LogsOf("use")).IsEquivalentTo((IEnumerable<string>)["tool"], CollectionOrdering.Matching);

        var entry = (await Assert.That(new CacheStore(_harness.Cache, TimeProvider.System).List()).HasSingleItem()).Entry;
        using var client = await DockerTestEngine.ConnectAsync();
        var image = await client.InspectImageAsync(_harness.CacheReference(entry.Key), cancellationToken);
        await Assert.That(image).IsNotNull();
        await Assert.That(image.Id).IsEqualTo(entry.Image);
        await Assert.That(image.Config!.Labels![DockerNames.EphemeralLabel]).IsEqualTo("0");
    }

    [Test]
    public async Task An_image_deleted_behind_the_caches_back_drops_the_entry_and_the_step_runs_again(CancellationToken cancellationToken)
    {
        _harness.WriteSource("input.txt", "v1\n");
        await Assert.That((await _harness.RunAsync(Chain())).ExitCode).IsEqualTo(0);
        var store = new CacheStore(_harness.Cache, TimeProvider.System);
        var a = store.List().Single(l => l.Entry.Step == "a").Entry;

        using (var client = await DockerTestEngine.ConnectAsync())
        {
            // b's image stacks on a's layers, so only the tag can go; by its id, a's image is gone to any lookup by id.
            await client.RemoveImageAsync(_harness.CacheReference(a.Key), force: true, cancellationToken);
            var b = store.List().Single(l => l.Entry.Step == "b").Entry;
            await client.RemoveImageAsync(_harness.CacheReference(b.Key), force: true, cancellationToken);
            await client.RemoveImageAsync(a.Image!, force: true, cancellationToken);
            await Assert.That(await client.InspectImageAsync(a.Image!, cancellationToken)).IsNull();
        }

        var rerun = await _harness.RunAsync(Chain());

        await Assert.That(rerun.ExitCode == 0).IsTrue().Because(rerun.ToString());
        await Assert.That(rerun.Executed).IsEquivalentTo((IEnumerable<string>)["a", "b", "c"], CollectionOrdering.Matching);
        await Assert.That(rerun.LogsOf("a"))
            .Contains(l => l.Contains("dropped: its image", StringComparison.Ordinal) && l.Contains("no longer on the engine", StringComparison.Ordinal));
        await Assert.That(rerun.LogsOf("c"))
            .IsEquivalentTo((IEnumerable<string>)["v1", "made-by-a", "made-by-b", "system-a", "doomed-gone"], CollectionOrdering.Matching);

        var third = await _harness.RunAsync(Chain());
        await Assert.That(third.Hit("a") && third.Hit("b")).IsTrue().Because(third.ToString());
    }

    [Test]
    public async Task A_cached_leaf_keeps_its_image_tagged_from_its_key_and_counts_it_in_the_entry_size(CancellationToken cancellationToken)
    {
        var run = await _harness.RunAsync(Pipeline(
            "docker-cache-leaf",
            Runner.Docker,
            Cached("leaf", "head -c 300000 /dev/zero > /big.bin && echo out > out.txt", null, Forever())));
        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());

        var entry = (await Assert.That(new CacheStore(_harness.Cache, TimeProvider.System).List()).HasSingleItem()).Entry;
        await Assert.That(entry.HasWorkspace).IsTrue();
        await Assert.That(entry.Image).IsNotNull();
        await Assert.That(entry.ImageSize).IsBetween(300_000, 400_000);
        await Assert.That(entry.Size >= entry.ImageSize).IsTrue();
        using var client = await DockerTestEngine.ConnectAsync();
        var image = await client.InspectImageAsync(_harness.CacheReference(entry.Key), cancellationToken);
        await Assert.That(image?.Id).IsEqualTo(entry.Image);
    }

    [Test]
    public async Task Two_runs_racing_on_one_step_leave_one_entry_whose_image_holds_the_tag_and_no_other_image(CancellationToken cancellationToken)
    {
        var pipeline = Pipeline(
            "docker-cache-race",
            Runner.Docker,
            Cached("racer", "sleep 1 && date +%s%N > /stamp", null, Forever()),
            Step("use", "cat /stamp", "racer"));

        var runs = await Task.WhenAll(_harness.RunAsync(pipeline), _harness.RunAsync(pipeline));

        foreach (var r in runs)
        {
            await Assert.That(r.ExitCode == 0).IsTrue().Because(r.ToString());
        }
        foreach (var r in runs)
        {
            await Assert.That(r.Executed).IsEquivalentTo((IEnumerable<string>)["racer", "use"], CollectionOrdering.Matching);
        }
        await Assert.That(runs)
            .Contains(r => r.LogsOf("racer").Any(l => l.Contains("another run cached this step's result first", StringComparison.Ordinal)));
        var entry = (await Assert.That(new CacheStore(_harness.Cache, TimeProvider.System).List()).HasSingleItem()).Entry;
        using var client = await DockerTestEngine.ConnectAsync();
        await Assert.That((await client.InspectImageAsync(_harness.CacheReference(entry.Key), cancellationToken))?.Id).IsEqualTo(entry.Image);

        // The loser's commit went with its run: of both runs' images, only the entry's is left.
        var left = new List<string>();
        foreach (var runId in runs.Select(r => r.Events.OfType<BuildStarted>().Single().RunId))
        {
            left.AddRange((await client.ListImagesAsync([$"{DockerNames.OwnerLabel}=1", $"{DockerNames.RunLabel}={runId}"], cancellationToken)).Select(i => i.Id));
        }

        await Assert.That(left).IsEquivalentTo((IEnumerable<string>)[entry.Image!], CollectionOrdering.Matching);
        var rerun = await _harness.RunAsync(pipeline);
        await Assert.That(rerun.Hit("racer")).IsTrue().Because(rerun.ToString());
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
        await Assert.That(exit).IsEqualTo(0);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }
}
