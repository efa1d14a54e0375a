using Harmont.Aot.Cache;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests.Cache;

/// <summary>Two processes of the real AOT binary run one cached pipeline at once over one cache directory.</summary>
[NotInParallel(nameof(ConcurrentCacheTests))]
public sealed class ConcurrentCacheTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harmont-concurrent-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Test]
    public async Task Two_concurrent_runs_both_pass_one_entry_per_step_is_published_and_a_third_run_hits_everything(CancellationToken cancellationToken)
    {
        var cancel = cancellationToken;
        var publish = await AotSmoke.PublishedAsync();
        await Assert.That(publish.ExitCode == 0).IsTrue().Because(publish.Output);
        var source = Directory.CreateDirectory(Path.Combine(_root, "repo")).FullName;
        Directory.CreateDirectory(Path.Combine(source, "src"));
        await File.WriteAllTextAsync(Path.Combine(source, "src", "a.txt"), "alpha\n", cancel);
        var cache = Path.Combine(_root, "cache");

        Task<(int ExitCode, string Output)> RunAsync() =>
            Exec.RunAsync(publish.Binary, ["cached", "--format", "json", "--repo", source], source, cancel, ("HARMONT_CACHE_DIR", cache));

        // Both miss (each build sleeps a second, so their runs overlap) and race to publish the same keys.
        var runs = await Task.WhenAll(RunAsync(), RunAsync());

        foreach (var r in runs)
        {
            await Assert.That(r.ExitCode == 0).IsTrue().Because(r.Output);
        }
        foreach (var r in runs)
        {
            await Assert.That(r.Output).Contains("\"event\":\"step_start\"", StringComparison.Ordinal);
        }
        await Assert.That(runs).Contains(r => r.Output.Contains("another run cached this step's result first", StringComparison.Ordinal));
        var entries = new CacheStore(cache, TimeProvider.System).List();
        await Assert.That(entries.Select(e => e.Entry.Step).Order(StringComparer.Ordinal))
            .IsEquivalentTo((IEnumerable<string>)["build", "package"], CollectionOrdering.Matching);
        await Assert.That(Directory.Exists(Path.Combine(cache, "staging")) ? Directory.GetFileSystemEntries(Path.Combine(cache, "staging")) : [])
            .IsEmpty();

        var third = await RunAsync();
        await Assert.That(third.ExitCode == 0).IsTrue().Because(third.Output);
        await Assert.That(third.Output.Split('\n').Count(l => l.Contains("\"event\":\"step_cache_hit\"", StringComparison.Ordinal))).IsEqualTo(2);
        await Assert.That(third.Output).DoesNotContain("\"event\":\"step_start\"", StringComparison.Ordinal);
    }
}
