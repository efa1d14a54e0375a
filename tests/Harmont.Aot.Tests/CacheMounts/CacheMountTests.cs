using Harmont.Aot.Model;

namespace Harmont.Aot.Tests.CacheMounts;

/// <summary>
/// [CacheMount] on the host backend (a bind in the step's mount namespace): the directory persists across runs
/// and keys, is in no key and no entry, is taken in turn by steps sharing its id, is listed by <c>cache ls</c>,
/// counts against the cache's bound, and its links are never followed when it is sized or removed.
/// </summary>
[Property("Requires", "root")]
[NotInParallel(nameof(CacheMountTests))]
public sealed class CacheMountTests : IDisposable
{
    // A path on the host the binds go over; the mount's content lives in the cache dir, not here.
    private readonly string _target = Path.Combine(Path.GetTempPath(), $"harmont-mount-{Guid.NewGuid():N}");

    public void Dispose() => Directory.Delete(_target, recursive: true);

    private StepDefinition Counter(string key, string id, string extra = "", params CachePolicy[] cache)
    {
        var command = $"n=$(cat {_target}/n 2>/dev/null || echo 0); sleep 0.2; echo $((n + 1)) > {_target}/n; echo count=$((n + 1)){extra}";
        return new StepDefinition
        {
            Key = key, Label = key, Command = () => command, ConstantCommand = command, Cache = cache,
            CacheMounts = [new CacheMount(_target, id)],
        };
    }

    private static PipelineDefinition Pipeline(params StepDefinition[] steps) => Define.Pipeline("mounts", Aot.Runner.Host, steps);

    [Test]
    public async Task The_directory_persists_across_runs_and_keys_and_is_shared_by_id()
    {
        using var harness = new RunHarness();
        var first = await harness.RunAsync(Pipeline(Counter("a", "shared")));
        await Assert.That(first.LogsOf("a")).Contains("count=1").Because(first.ToString());

        // Another step, another command (so another key), the same id: the same directory.
        var second = await harness.RunAsync(Pipeline(Counter("b", "shared", "; true")));
        await Assert.That(second.LogsOf("b")).Contains("count=2").Because(second.ToString());

        var other = await harness.RunAsync(Pipeline(Counter("c", "other")));
        await Assert.That(other.LogsOf("c")).Contains("count=1").Because(other.ToString());
    }

    [Test]
    public async Task Its_content_is_in_no_key_and_no_entry()
    {
        using var harness = new RunHarness();
        var cached = Counter("a", "shared", "", Define.Forever());
        var first = await harness.RunAsync(Pipeline(cached));
        await Assert.That(first.ExitCode == 0).IsTrue().Because(first.ToString());

        // The mount changed since, and the step still hits: its content is no input of the key.
        File.WriteAllText(Path.Combine(harness.Cache, "mounts", "shared", "data", "n"), "41\n");
        var second = await harness.RunAsync(Pipeline(cached));
        await Assert.That(second.Hit("a")).IsTrue().Because(second.ToString());

        var entries = Directory.GetDirectories(Path.Combine(harness.Cache, "entries"));
        await Assert.That(entries.Length).IsEqualTo(1);
        await Assert.That(Directory.GetFileSystemEntries(Path.Combine(entries[0], "workspace"))).IsEmpty();
    }

    [Test]
    public async Task Steps_and_runs_sharing_an_id_take_turns()
    {
        using var harness = new RunHarness();
        var pipeline = Pipeline(Counter("a", "shared"), Counter("b", "shared"));
        var runs = await Task.WhenAll(harness.RunAsync(pipeline, "-j", "2"), harness.RunAsync(pipeline, "-j", "2"));
        foreach (var run in runs)
        {
            await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        }

        // Four read-sleep-write increments of one file: any two at once would lose one.
        await Assert.That(File.ReadAllText(Path.Combine(harness.Cache, "mounts", "shared", "data", "n")).Trim()).IsEqualTo("4");
    }

    [Test]
    public async Task Cache_ls_shows_it_and_cache_clean_removes_it_without_following_its_links()
    {
        using var harness = new RunHarness();
        var victim = Path.Combine(harness.Root, "victim");
        Directory.CreateDirectory(victim);
        File.WriteAllText(Path.Combine(victim, "precious"), "keep me");
        var command = $"ln -s {victim} {_target}/dir-link && ln -s {victim}/precious {_target}/file-link && head -c 50000 /dev/zero > {_target}/blob";
        var step = new StepDefinition { Key = "a", Label = "a", Command = () => command, ConstantCommand = command, CacheMounts = [new CacheMount(_target, "hostile")] };
        var run = await harness.RunAsync(Pipeline(step));
        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());

        var listing = await harness.RunAsync([], ["cache", "ls"]);
        await Assert.That(listing.Output).Contains("mount hostile");
        await Assert.That(listing.Output).Contains("1 cache mount(s), 48.9 KiB").Because(listing.Output);

        var clean = await harness.RunAsync([], ["cache", "clean"]);
        await Assert.That(clean.Output).Contains("1 cache mount(s) removed");
        await Assert.That(Directory.Exists(Path.Combine(harness.Cache, "mounts", "hostile"))).IsFalse();
        await Assert.That(File.ReadAllText(Path.Combine(victim, "precious"))).IsEqualTo("keep me");
    }

    [Test]
    public async Task It_is_evicted_when_the_cache_is_over_its_bound()
    {
        using var harness = new RunHarness();
        harness.Env["HARMONT_CACHE_MAX_SIZE"] = "10KiB";
        var command = $"head -c 50000 /dev/zero > {_target}/blob";
        var step = new StepDefinition { Key = "a", Label = "a", Command = () => command, ConstantCommand = command, CacheMounts = [new CacheMount(_target, "big")] };
        var run = await harness.RunAsync(Pipeline(step));
        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(run.Error).Contains("removed 1 least-recently-used cache mount(s)").Because(run.ToString());
        await Assert.That(Directory.Exists(Path.Combine(harness.Cache, "mounts", "big"))).IsFalse();
    }

    [Test]
    public async Task A_mount_path_that_is_not_absolute_is_a_usage_error()
    {
        using var harness = new RunHarness();
        var step = new StepDefinition { Key = "a", Label = "a", Command = () => "true", ConstantCommand = "true", CacheMounts = [new CacheMount("relative/dir", null)] };
        var run = await harness.RunAsync(Pipeline(step));
        await Assert.That(run.ExitCode).IsEqualTo(2);
        await Assert.That(run.Error).Contains("is not an absolute path or one under '~/'");
    }
}
