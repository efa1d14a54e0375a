using Harmont.Aot.Cache;

namespace Harmont.Aot.Tests.Cache;

/// <summary>Two processes of the real AOT binary run one cached pipeline at once over one cache directory.</summary>
public sealed class ConcurrentCacheTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harmont-concurrent-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Two_concurrent_runs_both_pass_one_entry_per_step_is_published_and_a_third_run_hits_everything()
    {
        var cancel = TestContext.Current.CancellationToken;
        var publish = await AotSmoke.PublishedAsync();
        Assert.True(publish.ExitCode == 0, publish.Output);
        var source = Directory.CreateDirectory(Path.Combine(_root, "repo")).FullName;
        Directory.CreateDirectory(Path.Combine(source, "src"));
        await File.WriteAllTextAsync(Path.Combine(source, "src", "a.txt"), "alpha\n", cancel);
        var cache = Path.Combine(_root, "cache");

        Task<(int ExitCode, string Output)> RunAsync() =>
            Exec.RunAsync(publish.Binary, ["cached", "--format", "json", "--repo", source], source, cancel, ("HARMONT_CACHE_DIR", cache));

        // Both miss (each build sleeps a second, so their runs overlap) and race to publish the same keys.
        var runs = await Task.WhenAll(RunAsync(), RunAsync());

        Assert.All(runs, r => Assert.True(r.ExitCode == 0, r.Output));
        Assert.All(runs, r => Assert.Contains("\"event\":\"step_start\"", r.Output, StringComparison.Ordinal));
        Assert.Contains(runs, r => r.Output.Contains("another run cached this step's result first", StringComparison.Ordinal));
        var entries = new CacheStore(cache, TimeProvider.System).List();
        Assert.Equal(["build", "package"], entries.Select(e => e.Entry.Step).Order(StringComparer.Ordinal));
        Assert.Empty(Directory.Exists(Path.Combine(cache, "staging")) ? Directory.GetFileSystemEntries(Path.Combine(cache, "staging")) : []);

        var third = await RunAsync();
        Assert.True(third.ExitCode == 0, third.Output);
        Assert.Equal(2, third.Output.Split('\n').Count(l => l.Contains("\"event\":\"step_cache_hit\"", StringComparison.Ordinal)));
        Assert.DoesNotContain("\"event\":\"step_start\"", third.Output, StringComparison.Ordinal);
    }
}
