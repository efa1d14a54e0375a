using Harmont.Aot.Cache;
using Harmont.Aot.Cleanup;
using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests.Cache;

/// <summary>
/// Eviction beside live runs, with real processes of the AOT binary: what a run uses (its hits, the entries it
/// publishes, their images) is never taken from under it, removal says what it kept, and what removal could
/// not take (a cache tag whose entry went while a container used its image) is collected later.
/// </summary>
[Property("Requires", "docker")]
[NotInParallel(nameof(EvictionRaceTests))]
public sealed class EvictionRaceTests : IAsyncDisposable
{
    private const int Runs = 8;
    private const int MaxRemovals = 400;
    private readonly string _root = Directory.CreateTempSubdirectory("harmont-evict-race-").FullName;

    private string Source => Path.Combine(_root, "repo");

    private string Cache => Path.Combine(_root, "cache");

    private static CancellationToken Ct => TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None;

    [Before(Test)]
    public async Task InitializeAsync()
    {
        await BusyboxImage.EnsureAsync();
        Directory.CreateDirectory(Source);
        await File.WriteAllTextAsync(Path.Combine(Source, "input.txt"), "input\n", Ct);
    }

    public async ValueTask DisposeAsync()
    {
        var published = await AotSmoke.PublishedAsync();
        await Exec.RunAsync(published.Binary, ["cache", "clean"], Source, CancellationToken.None, ("HARMONT_CACHE_DIR", Cache));
        Directory.Delete(_root, recursive: true);
    }

    [Test]
    public async Task Docker_runs_in_a_loop_all_pass_beside_prune_to_one_byte_and_clean_loops(CancellationToken cancellationToken)
    {
        var published = await AotSmoke.PublishedAsync();
        await Assert.That(published.ExitCode == 0).IsTrue().Because(published.Output);
        Task<(int ExitCode, string Output)> Binary(params string[] args) =>
            Exec.RunAsync(published.Binary, args, Source, cancellationToken, ("HARMONT_CACHE_DIR", Cache));

        using var done = new CancellationTokenSource();
        async Task<List<(int ExitCode, string Output)>> LoopAsync(string[] args)
        {
            var results = new List<(int, string)>();
            for (var i = 0; i < MaxRemovals && !done.IsCancellationRequested; i++)
            {
                results.Add(await Binary(args));
            }

            return results;
        }

        var prunes = LoopAsync(["cache", "prune", "--max-size", "1B"]);
        var cleans = LoopAsync(["cache", "clean"]);
        var runs = new List<(int ExitCode, string Output)>();
        try
        {
            for (var i = 0; i < Runs; i++)
            {
                runs.Add(await Binary("churn", "--repo", Source));
            }
        }
        finally
        {
            await done.CancelAsync();
        }

        var removals = (await prunes).Concat(await cleans).ToList();
        foreach (var r in runs)
        {
            await Assert.That(r.ExitCode == 0).IsTrue().Because(r.Output);
        }
        foreach (var r in runs)
        {
            await Assert.That(r.Output).Contains("base", StringComparison.Ordinal);
        }
        foreach (var r in removals)
        {
            await Assert.That(r.ExitCode == 0).IsTrue().Because(r.Output);
        }
        foreach (var r in removals)
        {
            await Assert.That(r.Output).DoesNotContain("   at ", StringComparison.Ordinal);
        }

        // Whatever the loops left, one more clean with no run beside it takes all of it: no tag outlives its entry.
        var last = await Binary("cache", "clean");
        await Assert.That(last.ExitCode == 0).IsTrue().Because(last.Output);
        await Assert.That(new CacheStore(Cache, TimeProvider.System).List()).IsEmpty();
        await Assert.That(await CacheTagsAsync()).IsEmpty();
    }

    [Test]
    public async Task A_cache_tag_whose_entry_is_gone_is_collected_by_prune(CancellationToken cancellationToken)
    {
        using var client = await DockerTestEngine.ConnectAsync();
        var orphanKey = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        var labels = new Dictionary<string, string>
        {
            [DockerNames.OwnerLabel] = "1",
            [DockerNames.CacheLabel] = OwnerLock.Label(Cache),
            [DockerNames.EphemeralLabel] = "0",
        };
        using (var rootfs = BusyboxImage.BuildRootfs())
        {
            await client.ImportImageAsync(rootfs, DockerNames.CacheRepository(OwnerLock.Label(Cache)), DockerNames.CacheTag(orphanKey), labels, cancellationToken);
        }

        await Assert.That(await CacheTagsAsync()).Contains(DockerNames.CacheReference(OwnerLock.Label(Cache), orphanKey));

        var published = await AotSmoke.PublishedAsync();
        var prune = await Exec.RunAsync(published.Binary, ["cache", "prune"], Source, cancellationToken, ("HARMONT_CACHE_DIR", Cache));

        await Assert.That(prune.ExitCode == 0).IsTrue().Because(prune.Output);
        await Assert.That(prune.Output).Contains("removed 1 cache tag(s) whose entries were gone", StringComparison.Ordinal);
        await Assert.That(await client.InspectImageAsync(DockerNames.CacheReference(OwnerLock.Label(Cache), orphanKey), cancellationToken)).IsNull();
    }

    // Cache tags of images made for this test's cache.
    private async Task<List<string>> CacheTagsAsync()
    {
        using var client = await DockerTestEngine.ConnectAsync();
        var images = await client.ListImagesAsync([$"{DockerNames.CacheLabel}={OwnerLock.Label(Cache)}"], Ct);
        return [.. images.SelectMany(i => i.RepoTags ?? []).Where(DockerNames.IsAnyCacheReference)];
    }
}
