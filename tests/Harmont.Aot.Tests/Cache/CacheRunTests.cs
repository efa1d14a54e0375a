using Harmont.Aot.Events;
using Harmont.Aot.Model;
using TUnit.Assertions.Enums;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests.Cache;

/// <summary>
/// The cache end to end on the host backend: keys from real files, env and a moved clock; hits that
/// run nothing; misses that re-run exactly what changed; and explain naming the input that did.
/// </summary>
[NotInParallel(nameof(CacheRunTests))]
public sealed class CacheRunTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    private static PipelineDefinition Host(params StepDefinition[] steps) => Pipeline("cache", Runner.Host, steps);

    [Test]
    public async Task A_fully_cached_rerun_runs_nothing_and_says_every_step_hit()
    {
        _harness.WriteSource("src/a.txt", "a");
        var pipeline = Host(
            Cached("deps", "echo deps > deps.txt", null, Forever()),
            Cached("build", "cat src/a.txt deps.txt > out.txt", "deps", OnChange("src/**")),
            Cached("test", "cat out.txt", "build", Forever()));

        var first = await _harness.RunAsync(pipeline);
        await Assert.That(first.ExitCode == 0).IsTrue().Because(first.ToString());
        await Assert.That(first.Executed).IsEquivalentTo((IEnumerable<string>)["deps", "build", "test"], CollectionOrdering.Matching);

        var second = await _harness.RunAsync(pipeline);
        await Assert.That(second.ExitCode).IsEqualTo(0);
        await Assert.That(second.Executed).IsEmpty();
        foreach (var s in new[] { "deps", "build", "test" })
        {
            await Assert.That(second.Hit(s)).IsTrue().Because(s);
        }
        foreach (var s in new[] { "deps", "build", "test" })
        {
            await Assert.That(second.StatusOf(s)).IsEqualTo(StepStatus.Passed);
        }
        await Assert.That(_harness.LeftoverRunDirs()).IsEmpty();
    }

    [Test]
    public async Task OnChange_reruns_the_step_whose_matched_file_changed_and_its_descendants_only()
    {
        _harness.WriteSource("web/index.html", "v1");
        _harness.WriteSource("api/main.go", "v1");
        _harness.WriteSource("README.md", "readme v1");
        var pipeline = Host(
            Cached("web", "cat web/index.html > web.out", null, OnChange("web/**")),
            Cached("web-test", "cat web.out", "web", Forever()),
            Cached("api", "cat api/main.go > api.out", null, OnChange("api/**", "*.mod")),
            Cached("api-test", "cat api.out", "api", Forever()));
        _harness.WriteSource("go.mod", "module x");
        await Assert.That((await _harness.RunAsync(pipeline)).ExitCode).IsEqualTo(0);

        _harness.WriteSource("README.md", "readme v2");
        var unmatched = await _harness.RunAsync(pipeline);
        await Assert.That(unmatched.Executed).IsEmpty();

        _harness.WriteSource("web/index.html", "v2");
        var matched = await _harness.RunAsync(pipeline);
        await Assert.That(matched.Executed.Order(StringComparer.Ordinal))
            .IsEquivalentTo((IEnumerable<string>)["web", "web-test"], CollectionOrdering.Matching);
        await Assert.That(matched.LogsOf("web-test")).Contains("v2");
        await Assert.That(matched.Hit("api") && matched.Hit("api-test")).IsTrue();
    }

    [Test]
    public async Task A_glob_that_matches_nothing_is_an_error_naming_the_glob_and_runs_nothing()
    {
        _harness.WriteSource("src/a.txt", "a");
        var outcome = await _harness.RunAsync(Host(Cached("build", "true", null, OnChange("src/**", "srcx/**"))));

        await Assert.That(outcome.ExitCode).IsEqualTo(2);
        await Assert.That(outcome.Error).Contains("srcx/**", StringComparison.Ordinal);
        await Assert.That(outcome.Error).Contains("build", StringComparison.Ordinal);
        await Assert.That(outcome.Executed).IsEmpty();
    }

    [Test]
    public async Task Ttl_reruns_when_the_clock_enters_the_next_bucket_and_env_keys_rerun_when_their_value_changes()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero));
        _harness.Clock = clock;
        _harness.Env["HM_CHANNEL"] = "stable";
        var pipeline = Host(Cached("fetch", "echo fetched", null, Ttl(TimeSpan.FromHours(1), "HM_CHANNEL")));

        await Assert.That((await _harness.RunAsync(pipeline)).Executed).IsEquivalentTo((IEnumerable<string>)["fetch"], CollectionOrdering.Matching);

        clock.Now = clock.Now.AddMinutes(59); // Same hour bucket.
        await Assert.That((await _harness.RunAsync(pipeline)).Hit("fetch")).IsTrue();

        clock.Now = clock.Now.AddMinutes(2); // 11:01: the next bucket.
        var moved = await _harness.RunAsync(pipeline, "--explain");
        await Assert.That(moved.Executed).IsEquivalentTo((IEnumerable<string>)["fetch"], CollectionOrdering.Matching);
        await Assert.That(moved.Output).Contains("ttl bucket moved", StringComparison.Ordinal);

        _harness.Env["HM_CHANNEL"] = "beta";
        var changed = await _harness.RunAsync(pipeline, "--explain");
        await Assert.That(changed.Executed).IsEquivalentTo((IEnumerable<string>)["fetch"], CollectionOrdering.Matching);
        await Assert.That(changed.Output).Contains("env var HM_CHANNEL (a key of its ttl policy) changed", StringComparison.Ordinal);
        await Assert.That((await _harness.RunAsync(pipeline)).Hit("fetch")).IsTrue();
    }

    [Test]
    public async Task A_secret_is_no_key_input_so_changing_it_hits_and_its_values_are_in_no_file_of_the_cache(CancellationToken cancellationToken)
    {
        const string First = "hunter2-first-value";
        const string Second = "hunter2-second-value";
        var step = new StepDefinition
        {
            Key = "deploy",
            Label = "deploy",
            Command = () => "echo \"token is $HM_TOKEN\" && echo deployed > deployed.txt",
            ConstantCommand = "echo \"token is $HM_TOKEN\" && echo deployed > deployed.txt",
            Secrets = ["HM_TOKEN"],
            Cache = [Ttl(TimeSpan.FromDays(1), "HM_CHANNEL")],
        };
        var pipeline = Host(step, Step("after", "cat deployed.txt", "deploy")); // A child, so the entry keeps a workspace to grep.
        _harness.Clock = new ManualClock(new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero));

        _harness.Env["HM_TOKEN"] = First;
        var first = await _harness.RunAsync(pipeline);
        await Assert.That(first.LogsOf("deploy")).Contains("token is ***");
        _harness.Env["HM_TOKEN"] = Second;
        var second = await _harness.RunAsync(pipeline, "--explain");
        await Assert.That(second.Hit("deploy")).IsTrue().Because(second.ToString());
        await Assert.That(second.Output + second.Error).DoesNotContain(Second, StringComparison.Ordinal);

        var files = Directory.GetFiles(_harness.Cache, "*", SearchOption.AllDirectories);
        await Assert.That(files).Contains(f => f.EndsWith("deployed.txt", StringComparison.Ordinal)); // The grep below has entries to read.
        foreach (var file in files)
        {
            var text = await File.ReadAllTextAsync(file, cancellationToken);
            await Assert.That(text).DoesNotContain(First, StringComparison.Ordinal);
            await Assert.That(text).DoesNotContain(Second, StringComparison.Ordinal);
        }
    }

    [Test]
    public async Task A_cached_child_of_an_uncached_parent_is_not_cached_and_explain_says_why()
    {
        var pipeline = Host(
            Step("prepare", "echo prepared > p.txt"),
            Cached("build", "cat p.txt", "prepare", Forever()));

        await Assert.That((await _harness.RunAsync(pipeline)).ExitCode).IsEqualTo(0);
        var again = await _harness.RunAsync(pipeline, "--explain");

        await Assert.That(again.Executed).IsEquivalentTo((IEnumerable<string>)["prepare", "build"], CollectionOrdering.Matching);
        await Assert.That(again.Output).Contains("build    not cached: its parent 'prepare' is not cached", StringComparison.Ordinal);
        var explain = await _harness.RunAsync([pipeline], ["explain", "build"]);
        await Assert.That(explain.ExitCode).IsEqualTo(0);
        await Assert.That(explain.Output).Contains("not cached: its parent 'prepare' is not cached", StringComparison.Ordinal);
    }

    [Test]
    public async Task Explain_names_the_changed_file_the_changed_command_and_the_parent_it_inherits_a_miss_from()
    {
        _harness.WriteSource("src/a.c", "int a;");
        _harness.WriteSource("src/b.c", "int b;");
        var command = "cat src/*.c > all.txt";
        StepDefinition[] Steps() =>
        [
            Cached("build", command, null, OnChange("src/**")),
            Cached("package", "cat all.txt", "build", Forever()),
        ];
        await Assert.That((await _harness.RunAsync(Host(Steps()))).ExitCode).IsEqualTo(0);

        _harness.WriteSource("src/a.c", "int a = 1;");
        _harness.WriteSource("src/c.c", "int c;");
        File.Delete(Path.Combine(_harness.Source, "src", "b.c"));
        var explain = await _harness.RunAsync([Host(Steps())], ["explain"]);
        await Assert.That(explain.Output)
            .Contains("build    miss: file src/a.c changed; file src/b.c was removed; file src/c.c was added", StringComparison.Ordinal);
        await Assert.That(explain.Output).Contains("package  miss: parent 'build' changed (file src/a.c changed;", StringComparison.Ordinal);

        await Assert.That((await _harness.RunAsync(Host(Steps()))).ExitCode).IsEqualTo(0);
        command = "cat src/*.c | sort > all.txt";
        var rerun = await _harness.RunAsync(Host(Steps()), "--explain");
        await Assert.That(rerun.Output).Contains("build    miss: the command changed", StringComparison.Ordinal);

        var unchanged = await _harness.RunAsync([Host(Steps())], ["explain", "package"]);
        await Assert.That(unchanged.Output).Contains("package  hit: key ", StringComparison.Ordinal);
        await Assert.That(unchanged.Output).DoesNotContain("build", StringComparison.Ordinal);
    }

    [Test]
    public async Task Explain_refuses_an_unknown_step_and_names_the_steps_there_are()
    {
        var explain = await _harness.RunAsync([Host(Cached("build", "true", null, Forever()))], ["explain", "biuld"]);

        await Assert.That(explain.ExitCode).IsEqualTo(2);
        await Assert.That(explain.Error).Contains("no step 'biuld'. Its steps: build", StringComparison.Ordinal);
    }

    [Test]
    public async Task An_entry_removed_behind_the_caches_back_is_a_miss_that_explain_calls_gone()
    {
        var pipeline = Host(Cached("build", "echo built", null, Forever()));
        await Assert.That((await _harness.RunAsync(pipeline)).ExitCode).IsEqualTo(0);
        await Assert.That((await _harness.RunAsync([pipeline], ["cache", "clean"])).ExitCode).IsEqualTo(0);

        var rerun = await _harness.RunAsync(pipeline, "--explain");
        await Assert.That(rerun.Executed).IsEquivalentTo((IEnumerable<string>)["build"], CollectionOrdering.Matching);
        await Assert.That(rerun.Output).Contains("inputs are unchanged since the last run, but its entry is gone", StringComparison.Ordinal);
    }

    [Test]
    public async Task Eviction_after_a_run_is_printed_and_keeps_the_store_within_its_bound()
    {
        _harness.Env["HARMONT_CACHE_MAX_SIZE"] = "6KiB";
        // Parents, so their entries keep their workspaces (a leaf's entry keeps none).
        var pipeline = Host(
            Cached("one", "head -c 4096 /dev/zero > blob", null, Forever()),
            Step("one-child", "true", "one"),
            Cached("two", "head -c 4096 /dev/zero > blob", null, Forever("HM_UNSET_FOR_TWO")),
            Step("two-child", "true", "two"));

        var outcome = await _harness.RunAsync(pipeline);

        await Assert.That(outcome.ExitCode).IsEqualTo(0);
        await Assert.That(outcome.Error)
            .Contains("harmont: cache over its 6.0 KiB bound: evicted 1 least-recently-used entry", StringComparison.Ordinal);
        var listing = await _harness.RunAsync([pipeline], ["cache", "ls"]);
        await Assert.That(listing.Output).Contains("1 entries", StringComparison.Ordinal);
    }

    [Test]
    public async Task Explain_names_a_changed_image_and_a_changed_step_env_var()
    {
        StepDefinition Build(string cc) => new()
        {
            Key = "build",
            Label = "build",
            Command = () => "echo $CC",
            ConstantCommand = "echo $CC",
            Env = [new("CC", cc)],
            Cache = [Forever()],
        };
        PipelineDefinition WithImage(string image, string cc) => new()
        {
            Slug = "cache",
            Runner = Runner.Host,
            DefaultImage = image,
            Steps = [Build(cc)],
        };
        await Assert.That((await _harness.RunAsync(WithImage("alpine:3.19", "gcc"))).ExitCode).IsEqualTo(0);

        var image = await _harness.RunAsync(WithImage("alpine:3.20", "gcc"), "--explain");
        await Assert.That(image.Output).Contains("build  miss: the image changed: alpine:3.19 -> alpine:3.20", StringComparison.Ordinal);

        var env = await _harness.RunAsync(WithImage("alpine:3.20", "clang"), "--explain");
        await Assert.That(env.Output).Contains("build  miss: env var CC changed", StringComparison.Ordinal);
        await Assert.That(env.LogsOf("build")).IsEquivalentTo((IEnumerable<string>)["clang"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Exported_entries_imported_into_an_empty_cache_are_hits()
    {
        _harness.WriteSource("src/a.txt", "a\n");
        var pipeline = Host(
            Cached("build", "cat src/a.txt > out.txt", null, OnChange("src/**")),
            Step("use", "cat out.txt", "build"));
        await Assert.That((await _harness.RunAsync(pipeline)).ExitCode).IsEqualTo(0);
        var bundle = Path.Combine(_harness.Root, "bundle.tar.gz");
        await Assert.That((await _harness.RunAsync([pipeline], ["cache", "export", bundle])).ExitCode).IsEqualTo(0);
        await Assert.That((await _harness.RunAsync([pipeline], ["cache", "clean"])).ExitCode).IsEqualTo(0);
        await Assert.That((await _harness.RunAsync([pipeline], ["cache", "import", bundle])).ExitCode).IsEqualTo(0);

        var rerun = await _harness.RunAsync(pipeline);

        await Assert.That(rerun.Hit("build")).IsTrue().Because(rerun.ToString());
        await Assert.That(rerun.Executed).IsEquivalentTo((IEnumerable<string>)["use"], CollectionOrdering.Matching);
        await Assert.That(rerun.LogsOf("use")).IsEquivalentTo((IEnumerable<string>)["a"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task A_cached_leaf_keeps_its_workspace_so_a_child_added_later_starts_from_its_hit()
    {
        var leaf = Cached("build", "echo artefact > out.txt", null, Forever());
        await Assert.That((await _harness.RunAsync(Host(leaf))).ExitCode).IsEqualTo(0);
        var entry = await Assert.That(new Harmont.Aot.Cache.CacheStore(_harness.Cache, TimeProvider.System).List()).HasSingleItem();
        await Assert.That(entry.Entry.HasWorkspace).IsTrue();
        await Assert.That(File.ReadAllText(Path.Combine(entry.Directory, "workspace", "out.txt"))).IsEqualTo("artefact\n");
        await Assert.That(File.Exists(Path.Combine(entry.Directory, "sources"))).IsTrue();
        await Assert.That((await _harness.RunAsync(Host(leaf))).Hit("build")).IsTrue();

        var grown = await _harness.RunAsync(Host(leaf, Step("ship", "cat out.txt", "build")));

        await Assert.That(grown.Hit("build")).IsTrue().Because(grown.ToString());
        await Assert.That(grown.Executed).IsEquivalentTo((IEnumerable<string>)["ship"], CollectionOrdering.Matching);
        await Assert.That(grown.LogsOf("ship")).IsEquivalentTo((IEnumerable<string>)["artefact"], CollectionOrdering.Matching);
    }
}
