using Harmont.Aot.Cache;

namespace Harmont.Aot.Tests.Cache;

/// <summary>
/// Staging belongs to the writer filling it for as long as that writer lives: removal takes only a dead
/// writer's, at once, and <c>cache ls</c> counts what staging holds. Entries a run is using stay, said so.
/// </summary>
public sealed class StagingOwnerTests : IDisposable
{
    private const string Key = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
    private readonly RunHarness _harness = new();

    private string Staging => Path.Combine(_harness.Cache, "staging");

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task Clean_keeps_a_live_writers_staging_and_removes_a_dead_writers()
    {
        var store = new CacheStore(_harness.Cache, TimeProvider.System);
        var live = store.BeginEntry();
        await File.WriteAllTextAsync(Path.Combine(live, "half-written"), "x", TestContext.Current.CancellationToken);
        var dead = DeadWritersStaging(3000);

        var clean = await _harness.RunAsync([], ["cache", "clean"]);

        Assert.True(clean.ExitCode == 0, clean.ToString());
        Assert.True(File.Exists(Path.Combine(live, "half-written")), "a live writer's staging was swept from under it");
        Assert.False(Directory.Exists(dead));
        Assert.Contains("removed 1 staging dir(s) left by writers that ended abnormally", clean.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ls_counts_the_bytes_in_staging_and_says_which_are_a_dead_writers()
    {
        DeadWritersStaging(3000);

        var ls = await _harness.RunAsync([], ["cache", "ls"]);

        Assert.True(ls.ExitCode == 0, ls.ToString());
        Assert.Contains("staging: 1 dir(s), 2.9 KiB, 1 left by writers that ended abnormally", ls.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_run_removes_a_dead_writers_staging_when_it_starts_however_fresh()
    {
        var dead = DeadWritersStaging(10);
        _harness.WriteSource("source.txt", "from-source\n");

        var run = await _harness.RunAsync(HostChain.Definition);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.False(Directory.Exists(dead));
        Assert.Contains("removed 1 cache staging dir(s) left by writers that ended abnormally", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prune_keeps_an_entry_a_run_is_using_and_says_so()
    {
        var store = new CacheStore(_harness.Cache, TimeProvider.System);
        var staged = store.BeginEntry();
        Directory.CreateDirectory(Path.Combine(staged, "workspace"));
        await File.WriteAllTextAsync(Path.Combine(staged, "workspace", "a.txt"), "more than one byte", TestContext.Current.CancellationToken);
        Assert.True(store.Publish(staged, new CacheEntry { Key = Key, Pipeline = "ci", Step = "deps", Created = DateTimeOffset.UtcNow }));

        using (store.TryOpen(Key))
        {
            var prune = await _harness.RunAsync([], ["cache", "prune", "--max-size", "1B"]);

            Assert.True(prune.ExitCode == 0, prune.ToString());
            Assert.Contains("0 entries removed, 1 in use by a run kept", prune.Output, StringComparison.Ordinal);
        }

        Assert.Single(store.List());
    }

    // What a writer killed mid-copy leaves: a staging directory that no live process owns.
    private string DeadWritersStaging(int bytes)
    {
        var dir = Directory.CreateDirectory(Path.Combine(Staging, Guid.NewGuid().ToString("N"), "workspace")).Parent!.FullName;
        File.WriteAllBytes(Path.Combine(dir, "workspace", "partial.bin"), new byte[bytes]);
        return dir;
    }
}
