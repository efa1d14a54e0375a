using Harmont.Aot.Cache;
using Harmont.Aot.Model;

namespace Harmont.Aot.Tests.CacheMounts;

/// <summary>
/// The cache's size bound counts entries and cache mounts together, and eviction after a run and
/// <c>cache prune --max-size</c> apply it alike: the same store and bound lose the same things, least
/// recently used first, and nothing a run or a step is using.
/// </summary>
[Property("Requires", "root")]
[NotInParallel(nameof(CacheBoundTests))]
public sealed class CacheBoundTests : IDisposable
{
    private const int FiveMiB = 5 << 20;
    private readonly string _target = Path.Combine(Path.GetTempPath(), $"harmont-bound-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_target))
        {
            Directory.Delete(_target, recursive: true);
        }
    }

    [Test]
    public async Task Prune_max_size_removes_a_cache_mount_a_run_filled()
    {
        using var harness = new RunHarness();
        harness.Env["HARMONT_CACHE_MAX_SIZE"] = "1GiB";
        var command = $"head -c {FiveMiB} /dev/zero > {_target}/blob";
        var step = new StepDefinition { Key = "a", Label = "a", Command = () => command, ConstantCommand = command, CacheMounts = [new CacheMount(_target, "big")] };
        var run = await harness.RunAsync(Define.Pipeline("bound", Aot.Runner.Host, step));
        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(Directory.Exists(Path.Combine(harness.Cache, "mounts", "big"))).IsTrue();

        var prune = await harness.RunAsync([], ["cache", "prune", "--max-size", "1"]);

        await Assert.That(prune.ExitCode == 0).IsTrue().Because(prune.ToString());
        await Assert.That(prune.Output).Contains("removed cache mount big (5.0 MiB)").Because(prune.Output);
        await Assert.That(prune.Output).Contains("0 entries and 1 cache mount(s) removed").Because(prune.Output);
        await Assert.That(Directory.Exists(Path.Combine(harness.Cache, "mounts", "big"))).IsFalse();
    }

    [Test]
    public async Task Eviction_after_a_run_and_prune_remove_the_same_things_for_the_same_bound()
    {
        using var evicted = new RunHarness();
        using var pruned = new RunHarness();
        await FillAsync(evicted.Cache);
        await FillAsync(pruned.Cache);

        var notices = new StringWriter();
        await CachePlanning.EvictAsync(new CacheStore(evicted.Cache, TimeProvider.System), 5500, null, notices);
        var prune = await pruned.RunAsync([], ["cache", "prune", "--max-size", "5500"]);
        await Assert.That(prune.ExitCode == 0).IsTrue().Because(prune.ToString());

        // 9000 bytes, least recently used first: entry A, mount m1, entry B, mount m2, entry C. Cutting to
        // 5500 takes A and m1, whichever command does it.
        string[] expected = [Key('b'), Key('c'), "mount m2"];
        await Assert.That(Left(evicted.Cache)).IsEquivalentTo(expected).Because(notices.ToString());
        await Assert.That(Left(pruned.Cache)).IsEquivalentTo(expected).Because(prune.Output);
        await Assert.That(prune.Output).Contains("1 entries and 1 cache mount(s) removed").Because(prune.Output);
    }

    [Test]
    public async Task A_cache_mount_a_step_is_using_survives_prune_and_eviction()
    {
        using var harness = new RunHarness();
        await FillAsync(harness.Cache);
        var mounts = new CacheMountStore(harness.Cache, TimeProvider.System);
        using (await mounts.AcquireAsync([new CacheMount("/m1", "m1")], _ => { }, CancellationToken.None))
        {
            var prune = await harness.RunAsync([], ["cache", "prune", "--max-size", "1"]);
            await Assert.That(prune.Output).Contains("3 entries and 1 cache mount(s) removed, 1 cache mount(s) in use by a step kept").Because(prune.Output);
            await Assert.That(Left(harness.Cache)).IsEquivalentTo((string[])["mount m1"]);

            var notices = new StringWriter();
            await CachePlanning.EvictAsync(new CacheStore(harness.Cache, TimeProvider.System), 1, null, notices);
            await Assert.That(notices.ToString()).Contains("kept 1 cache mount(s) a step is using");
            await Assert.That(Left(harness.Cache)).IsEquivalentTo((string[])["mount m1"]);
        }

        var after = await harness.RunAsync([], ["cache", "prune", "--max-size", "1"]);
        await Assert.That(after.Output).Contains("0 entries and 1 cache mount(s) removed").Because(after.Output);
        await Assert.That(Left(harness.Cache)).IsEmpty();
    }

    private static string Key(char c) => new(c, 64);

    // Entries of 1000 bytes and mounts of 3000, used in turn a minute apart: A, m1, B, m2, C.
    private static async Task FillAsync(string cacheDir)
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow.AddHours(-1));
        var store = new CacheStore(cacheDir, clock);
        var mounts = new CacheMountStore(cacheDir, clock);
        foreach (var name in new[] { "a", "m1", "b", "m2", "c" })
        {
            if (name.StartsWith('m'))
            {
                using var lease = await mounts.AcquireAsync([new CacheMount("/" + name, name)], _ => { }, CancellationToken.None);
                await File.WriteAllTextAsync(Path.Combine(lease.Mounts[0].Key, "blob"), new string('m', 3000));
            }
            else
            {
                var staged = store.BeginEntry();
                Directory.CreateDirectory(Path.Combine(staged, "workspace"));
                await File.WriteAllTextAsync(Path.Combine(staged, "workspace", "out"), new string('e', 1000));
                store.Publish(staged, new CacheEntry { Key = Key(name[0]), Pipeline = "ci", Step = name, Created = clock.GetUtcNow() });
            }

            clock.Advance(TimeSpan.FromMinutes(1));
        }
    }

    private static List<string> Left(string cacheDir) =>
    [
        .. new CacheStore(cacheDir, TimeProvider.System).List().Select(l => l.Entry.Key),
        .. new CacheMountStore(cacheDir, TimeProvider.System).List().Select(m => $"mount {m.Id}"),
    ];
}
