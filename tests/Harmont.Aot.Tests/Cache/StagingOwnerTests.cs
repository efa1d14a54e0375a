using Harmont.Aot.Cache;

namespace Harmont.Aot.Tests.Cache;

/// <summary>
/// Staging belongs to the writer filling it for as long as that writer lives: removal takes only a dead
/// writer's, at once, and <c>cache ls</c> counts what staging holds. Entries a run is using stay, said so.
/// </summary>
[NotInParallel(nameof(StagingOwnerTests))]
public sealed class StagingOwnerTests : IDisposable
{
    private const string Key = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
    private readonly RunHarness _harness = new();

    private string Staging => Path.Combine(_harness.Cache, "staging");

    public void Dispose() => _harness.Dispose();

    [Test]
    public async Task Clean_keeps_a_live_writers_staging_and_removes_a_dead_writers(CancellationToken cancellationToken)
    {
        var store = new CacheStore(_harness.Cache, TimeProvider.System);
        var live = store.BeginEntry();
        await File.WriteAllTextAsync(Path.Combine(live, "half-written"), "x", cancellationToken);
        var dead = DeadWritersStaging(3000);

        var clean = await _harness.RunAsync([], ["cache", "clean"]);

        await Assert.That(clean.ExitCode == 0).IsTrue().Because(clean.ToString());
        await Assert.That(File.Exists(Path.Combine(live, "half-written"))).IsTrue().Because("a live writer's staging was swept from under it");
        await Assert.That(Directory.Exists(dead)).IsFalse();
        await Assert.That(clean.Output).Contains("removed 1 staging dir(s) left by writers that ended abnormally", StringComparison.Ordinal);
    }

    [Test]
    public async Task Ls_counts_the_bytes_in_staging_and_says_which_are_a_dead_writers()
    {
        DeadWritersStaging(3000);

        var ls = await _harness.RunAsync([], ["cache", "ls"]);

        await Assert.That(ls.ExitCode == 0).IsTrue().Because(ls.ToString());
        await Assert.That(ls.Output).Contains("staging: 1 dir(s), 2.9 KiB, 1 left by writers that ended abnormally", StringComparison.Ordinal);
    }

    [Test]
    public async Task A_run_removes_a_dead_writers_staging_when_it_starts_however_fresh()
    {
        var dead = DeadWritersStaging(10);
        _harness.WriteSource("source.txt", "from-source\n");

        var run = await _harness.RunAsync(HostChain.Definition);

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(Directory.Exists(dead)).IsFalse();
        await Assert.That(run.Error).Contains("removed 1 cache staging dir(s) left by writers that ended abnormally", StringComparison.Ordinal);
    }

    [Test]
    public async Task Prune_keeps_an_entry_a_run_is_using_and_says_so(CancellationToken cancellationToken)
    {
        var store = new CacheStore(_harness.Cache, TimeProvider.System);
        var staged = store.BeginEntry();
        Directory.CreateDirectory(Path.Combine(staged, "workspace"));
        await File.WriteAllTextAsync(Path.Combine(staged, "workspace", "a.txt"), "more than one byte", cancellationToken);
        await Assert.That(store.Publish(staged, new CacheEntry { Key = Key, Pipeline = "ci", Step = "deps", Created = DateTimeOffset.UtcNow }))
            .IsTrue();

        using (store.TryOpen(Key))
        {
            var prune = await _harness.RunAsync([], ["cache", "prune", "--max-size", "1B"]);

            await Assert.That(prune.ExitCode == 0).IsTrue().Because(prune.ToString());
            await Assert.That(prune.Output).Contains("0 entries removed, 1 in use by a run kept", StringComparison.Ordinal);
        }

        await Assert.That(store.List()).HasSingleItem();
    }

    // What a writer killed mid-copy leaves: a staging directory that no live process owns.
    private string DeadWritersStaging(int bytes)
    {
        var dir = Directory.CreateDirectory(Path.Combine(Staging, Guid.NewGuid().ToString("N"), "workspace")).Parent!.FullName;
        File.WriteAllBytes(Path.Combine(dir, "workspace", "partial.bin"), new byte[bytes]);
        return dir;
    }
}
