using System.Text.RegularExpressions;
using Harmont.Aot.Cache;
using Harmont.Aot.Cleanup;
using Harmont.Aot.Runners.Docker;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

/// <summary>
/// The real AOT binary killed with SIGKILL mid-step, so nothing of its own cleanup runs; the next run on the
/// machine must reap at once everything the dead run left: its running container, its images no entry records,
/// its work dir and a dead writer's staging, and must tag an entry's image the dead run never tagged.
/// </summary>
[Property("Requires", "docker")]
[NotInParallel(nameof(KillNineTests))]
public sealed partial class KillNineTests : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly string _work = Directory.CreateTempSubdirectory("harmont-kill9-").FullName;
    // The runs this test killed: DisposeAsync removes what a failed test left of them. TUnit disposes each
    // test's own instance, so this is no state shared between tests.
    private readonly List<string> _killedRuns = [];

    private string Cache => Path.Combine(_work, ".cache");

    [Before(Test)]
    public async Task InitializeAsync() => await BusyboxImage.EnsureAsync();

    public async ValueTask DisposeAsync()
    {
        var published = await AotSmoke.PublishedAsync();
        await Exec.RunAsync(published.Binary, ["cache", "clean"], _work, CancellationToken.None, ("HARMONT_CACHE_DIR", Cache));
        foreach (var runId in _killedRuns)
        {
            // Only if the test failed is anything of the dead run still there.
            using var client = await DockerTestEngine.ConnectAsync();
            foreach (var container in await client.ListContainersAsync($"{DockerNames.RunLabel}={runId}", CancellationToken.None))
            {
                await client.RemoveContainerAsync(container.Id, CancellationToken.None);
            }
        }

        Directory.Delete(_work, recursive: true);
    }

    [Test]
    public async Task After_a_kill_9_mid_step_the_next_run_reaps_its_container_images_work_dir_and_staging_at_once(CancellationToken cancellationToken)
    {
        var published = await AotSmoke.PublishedAsync();
        await Assert.That(published.ExitCode == 0).IsTrue().Because(published.Output);
        string runId;
        string[] holder;
        using var client = await DockerTestEngine.ConnectAsync();
        using (var killed = new LiveProcess(published.Binary, ["killable", "--repo", _work], _work, ("HARMONT_CACHE_DIR", Cache)))
        {
            await killed.WaitForLineAsync(l => l.Contains("hanging", StringComparison.Ordinal), Patience);
            runId = await RunIdOf(killed.Output);
            _killedRuns.Add(runId);
            holder = [$"{DockerNames.RunLabel}={runId}", $"{DockerNames.StepLabel}={DockerBackend.NetworkHolderStep}"];
            await Assert.That(await client.ListContainersAsync(holder, cancellationToken))
                .HasSingleItem().Because("the hanging step shares the namespace its parents kept");
            killed.Signal("KILL");
            await killed.WaitForExitAsync(Patience);
        }

        // Its step's container is still running now (unless a run of another test, starting meanwhile, has
        // already reaped it, which is the behaviour under test too). The network namespace its steps shared is
        // not: its holder read its stdin from the dead process, so it ended and the engine removed it.
        var label = $"{DockerNames.RunLabel}={runId}";
        await Assert.That(await client.ContainersLeftAsync(holder, cancellationToken)).IsEmpty();
        var kept = (await Assert.That(new CacheStore(Cache, TimeProvider.System).List()).HasSingleItem()).Entry;

        // Killed between publishing an entry and tagging its image: the entry names an image with no cache tag.
        await client.RemoveImageAsync(DockerNames.CacheReference(OwnerLock.Label(Cache), kept.Key), force: false, cancellationToken);

        // A writer killed mid-copy (a moment no kill can be timed to): staging no live process owns.
        var staging = Directory.CreateDirectory(Path.Combine(Cache, "staging", Guid.NewGuid().ToString("N"), "workspace")).FullName;
        await File.WriteAllTextAsync(Path.Combine(staging, "partial.txt"), "partial", cancellationToken);

        var next = await Exec.RunAsync(published.Binary, ["smoke", "--repo", _work], _work, cancellationToken, ("HARMONT_CACHE_DIR", Cache));

        await Assert.That(next.ExitCode == 0).IsTrue().Because(next.Output);
        await Assert.That(await client.ContainersLeftAsync(label, cancellationToken)).IsEmpty();
        foreach (var image in await client.ListImagesAsync(label, cancellationToken))
        {
            await Assert.That(image.Id == kept.Image)
                .IsTrue()
                .Because($"image {image.Id} ({string.Join(", ", image.RepoTags ?? [])}) of the dead run was left\n{next.Output}");
            await Assert.That(image.RepoTags)
                .IsEquivalentTo((IEnumerable<string>)[DockerNames.CacheReference(OwnerLock.Label(Cache), kept.Key)], CollectionOrdering.Matching);
        }

        await Assert.That((await client.InspectImageAsync(DockerNames.CacheReference(OwnerLock.Label(Cache), kept.Key), cancellationToken))?.Id).IsEqualTo(kept.Image);
        await Assert.That(Directory.GetDirectories(Path.Combine(Cache, "staging"))).IsEmpty();
        await Assert.That(RunHarness.RunDirsIn(Path.Combine(Cache, "work"))).DoesNotContain(Path.Combine(Cache, "work", $"run-{runId}"));
    }

    private static async Task<string> RunIdOf(string output)
    {
        var match = RunId().Match(output);
        await Assert.That(match.Success).IsTrue().Because($"no run id in:\n{output}");
        return match.Groups[1].Value;
    }

    [GeneratedRegex(@"\(\d+ steps, run ([0-9a-f-]+)\)")]
    private static partial Regex RunId();
}
