using Harmont.Aot.Cache;
using Harmont.Aot.Cleanup;
using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests.Cache;

/// <summary>
/// Eviction beside live runs, with real processes of the AOT binary: what a run uses (its hits, the entries it
/// publishes, their images) is never taken from under it, removal says what it kept, and what removal could
/// not take (a cache tag whose entry went while a container used its image) is collected later.
/// </summary>
[Trait("Requires", "docker")]
public sealed class EvictionRaceTests : IAsyncLifetime
{
    private const int Runs = 8;
    private const int MaxRemovals = 400;
    private readonly string _root = Directory.CreateTempSubdirectory("harmont-evict-race-").FullName;

    private string Source => Path.Combine(_root, "repo");

    private string Cache => Path.Combine(_root, "cache");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
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

    [Fact]
    public async Task Docker_runs_in_a_loop_all_pass_beside_prune_to_one_byte_and_clean_loops()
    {
        var published = await AotSmoke.PublishedAsync();
        Assert.True(published.ExitCode == 0, published.Output);
        Task<(int ExitCode, string Output)> Binary(params string[] args) =>
            Exec.RunAsync(published.Binary, args, Source, Ct, ("HARMONT_CACHE_DIR", Cache));

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
        Assert.All(runs, r => Assert.True(r.ExitCode == 0, r.Output));
        Assert.All(runs, r => Assert.Contains("base", r.Output, StringComparison.Ordinal));
        Assert.All(removals, r => Assert.True(r.ExitCode == 0, r.Output));
        Assert.All(removals, r => Assert.DoesNotContain("   at ", r.Output, StringComparison.Ordinal));

        // Whatever the loops left, one more clean with no run beside it takes all of it: no tag outlives its entry.
        var last = await Binary("cache", "clean");
        Assert.True(last.ExitCode == 0, last.Output);
        Assert.Empty(new CacheStore(Cache, TimeProvider.System).List());
        Assert.Empty(await CacheTagsAsync());
    }

    [Fact]
    public async Task A_cache_tag_whose_entry_is_gone_is_collected_by_prune()
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
            await client.ImportImageAsync(rootfs, DockerNames.CacheRepository, DockerNames.CacheTag(orphanKey), labels, Ct);
        }

        Assert.Contains(DockerNames.CacheReference(orphanKey), await CacheTagsAsync());

        var published = await AotSmoke.PublishedAsync();
        var prune = await Exec.RunAsync(published.Binary, ["cache", "prune"], Source, Ct, ("HARMONT_CACHE_DIR", Cache));

        Assert.True(prune.ExitCode == 0, prune.Output);
        Assert.Contains("removed 1 cache tag(s) whose entries were gone", prune.Output, StringComparison.Ordinal);
        Assert.Null(await client.InspectImageAsync(DockerNames.CacheReference(orphanKey), Ct));
    }

    // Cache tags of images made for this test's cache.
    private async Task<List<string>> CacheTagsAsync()
    {
        using var client = await DockerTestEngine.ConnectAsync();
        var images = await client.ListImagesAsync([$"{DockerNames.CacheLabel}={OwnerLock.Label(Cache)}"], Ct);
        return [.. images.SelectMany(i => i.RepoTags ?? []).Where(t => t.StartsWith(DockerNames.CacheRepository + ":", StringComparison.Ordinal))];
    }
}
