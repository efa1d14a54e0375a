using Harmont.Aot.Events;
using Harmont.Aot.Model;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests.Cache;

/// <summary>
/// The cache end to end on the host backend: keys from real files, env and a moved clock; hits that
/// run nothing; misses that re-run exactly what changed; and explain naming the input that did.
/// </summary>
public sealed class CacheRunTests : IDisposable
{
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    private static PipelineDefinition Host(params StepDefinition[] steps) => Pipeline("cache", Runner.Host, steps);

    [Fact]
    public async Task A_fully_cached_rerun_runs_nothing_and_says_every_step_hit()
    {
        _harness.WriteSource("src/a.txt", "a");
        var pipeline = Host(
            Cached("deps", "echo deps > deps.txt", null, Forever()),
            Cached("build", "cat src/a.txt deps.txt > out.txt", "deps", OnChange("src/**")),
            Cached("test", "cat out.txt", "build", Forever()));

        var first = await _harness.RunAsync(pipeline);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(["deps", "build", "test"], first.Executed);

        var second = await _harness.RunAsync(pipeline);
        Assert.Equal(0, second.ExitCode);
        Assert.Empty(second.Executed);
        Assert.All(["deps", "build", "test"], s => Assert.True(second.Hit(s), s));
        Assert.All(["deps", "build", "test"], s => Assert.Equal(StepStatus.Passed, second.StatusOf(s)));
        Assert.Empty(_harness.LeftoverRunDirs());
    }

    [Fact]
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
        Assert.Equal(0, (await _harness.RunAsync(pipeline)).ExitCode);

        _harness.WriteSource("README.md", "readme v2");
        var unmatched = await _harness.RunAsync(pipeline);
        Assert.Empty(unmatched.Executed);

        _harness.WriteSource("web/index.html", "v2");
        var matched = await _harness.RunAsync(pipeline);
        Assert.Equal(["web", "web-test"], matched.Executed.Order(StringComparer.Ordinal));
        Assert.Contains("v2", matched.LogsOf("web-test"));
        Assert.True(matched.Hit("api") && matched.Hit("api-test"));
    }

    [Fact]
    public async Task A_glob_that_matches_nothing_is_an_error_naming_the_glob_and_runs_nothing()
    {
        _harness.WriteSource("src/a.txt", "a");
        var outcome = await _harness.RunAsync(Host(Cached("build", "true", null, OnChange("src/**", "srcx/**"))));

        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("srcx/**", outcome.Error, StringComparison.Ordinal);
        Assert.Contains("build", outcome.Error, StringComparison.Ordinal);
        Assert.Empty(outcome.Executed);
    }

    [Fact]
    public async Task Ttl_reruns_when_the_clock_enters_the_next_bucket_and_env_keys_rerun_when_their_value_changes()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero));
        _harness.Clock = clock;
        _harness.Env["HM_CHANNEL"] = "stable";
        var pipeline = Host(Cached("fetch", "echo fetched", null, Ttl(TimeSpan.FromHours(1), "HM_CHANNEL")));

        Assert.Equal(["fetch"], (await _harness.RunAsync(pipeline)).Executed);

        clock.Now = clock.Now.AddMinutes(59); // Same hour bucket.
        Assert.True((await _harness.RunAsync(pipeline)).Hit("fetch"));

        clock.Now = clock.Now.AddMinutes(2); // 11:01: the next bucket.
        var moved = await _harness.RunAsync(pipeline, "--explain");
        Assert.Equal(["fetch"], moved.Executed);
        Assert.Contains("ttl bucket moved", moved.Output, StringComparison.Ordinal);

        _harness.Env["HM_CHANNEL"] = "beta";
        var changed = await _harness.RunAsync(pipeline, "--explain");
        Assert.Equal(["fetch"], changed.Executed);
        Assert.Contains("env var HM_CHANNEL (a key of its ttl policy) changed", changed.Output, StringComparison.Ordinal);
        Assert.True((await _harness.RunAsync(pipeline)).Hit("fetch"));
    }

    [Fact]
    public async Task A_secret_is_no_key_input_so_changing_it_hits_and_its_values_are_in_no_file_of_the_cache()
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
        Assert.Contains("token is ***", first.LogsOf("deploy"));
        _harness.Env["HM_TOKEN"] = Second;
        var second = await _harness.RunAsync(pipeline, "--explain");
        Assert.True(second.Hit("deploy"), second.ToString());
        Assert.DoesNotContain(Second, second.Output + second.Error, StringComparison.Ordinal);

        var files = Directory.GetFiles(_harness.Cache, "*", SearchOption.AllDirectories);
        Assert.Contains(files, f => f.EndsWith("deployed.txt", StringComparison.Ordinal)); // The grep below has entries to read.
        foreach (var file in files)
        {
            var text = await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken);
            Assert.DoesNotContain(First, text, StringComparison.Ordinal);
            Assert.DoesNotContain(Second, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_cached_child_of_an_uncached_parent_is_not_cached_and_explain_says_why()
    {
        var pipeline = Host(
            Step("prepare", "echo prepared > p.txt"),
            Cached("build", "cat p.txt", "prepare", Forever()));

        Assert.Equal(0, (await _harness.RunAsync(pipeline)).ExitCode);
        var again = await _harness.RunAsync(pipeline, "--explain");

        Assert.Equal(["prepare", "build"], again.Executed);
        Assert.Contains("build    not cached: its parent 'prepare' is not cached", again.Output, StringComparison.Ordinal);
        var explain = await _harness.RunAsync([pipeline], ["explain", "build"]);
        Assert.Equal(0, explain.ExitCode);
        Assert.Contains("not cached: its parent 'prepare' is not cached", explain.Output, StringComparison.Ordinal);
    }

    [Fact]
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
        Assert.Equal(0, (await _harness.RunAsync(Host(Steps()))).ExitCode);

        _harness.WriteSource("src/a.c", "int a = 1;");
        _harness.WriteSource("src/c.c", "int c;");
        File.Delete(Path.Combine(_harness.Source, "src", "b.c"));
        var explain = await _harness.RunAsync([Host(Steps())], ["explain"]);
        Assert.Contains("build    miss: file src/a.c changed; file src/b.c was removed; file src/c.c was added", explain.Output, StringComparison.Ordinal);
        Assert.Contains("package  miss: parent 'build' changed (file src/a.c changed;", explain.Output, StringComparison.Ordinal);

        Assert.Equal(0, (await _harness.RunAsync(Host(Steps()))).ExitCode);
        command = "cat src/*.c | sort > all.txt";
        var rerun = await _harness.RunAsync(Host(Steps()), "--explain");
        Assert.Contains("build    miss: the command changed", rerun.Output, StringComparison.Ordinal);

        var unchanged = await _harness.RunAsync([Host(Steps())], ["explain", "package"]);
        Assert.Contains("package  hit: key ", unchanged.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("build", unchanged.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_refuses_an_unknown_step_and_names_the_steps_there_are()
    {
        var explain = await _harness.RunAsync([Host(Cached("build", "true", null, Forever()))], ["explain", "biuld"]);

        Assert.Equal(2, explain.ExitCode);
        Assert.Contains("no step 'biuld'. Its steps: build", explain.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_entry_removed_behind_the_caches_back_is_a_miss_that_explain_calls_gone()
    {
        var pipeline = Host(Cached("build", "echo built", null, Forever()));
        Assert.Equal(0, (await _harness.RunAsync(pipeline)).ExitCode);
        Assert.Equal(0, (await _harness.RunAsync([pipeline], ["cache", "clean"])).ExitCode);

        var rerun = await _harness.RunAsync(pipeline, "--explain");
        Assert.Equal(["build"], rerun.Executed);
        Assert.Contains("inputs are unchanged since the last run, but its entry is gone", rerun.Output, StringComparison.Ordinal);
    }

    [Fact]
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

        Assert.Equal(0, outcome.ExitCode);
        Assert.Contains("harmont: cache over its 6.0 KiB bound: evicted 1 least-recently-used entry", outcome.Error, StringComparison.Ordinal);
        var listing = await _harness.RunAsync([pipeline], ["cache", "ls"]);
        Assert.Contains("1 entries", listing.Output, StringComparison.Ordinal);
    }

    [Fact]
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
        Assert.Equal(0, (await _harness.RunAsync(WithImage("alpine:3.19", "gcc"))).ExitCode);

        var image = await _harness.RunAsync(WithImage("alpine:3.20", "gcc"), "--explain");
        Assert.Contains("build  miss: the image changed: alpine:3.19 -> alpine:3.20", image.Output, StringComparison.Ordinal);

        var env = await _harness.RunAsync(WithImage("alpine:3.20", "clang"), "--explain");
        Assert.Contains("build  miss: env var CC changed", env.Output, StringComparison.Ordinal);
        Assert.Equal(["clang"], env.LogsOf("build"));
    }

    [Fact]
    public async Task Exported_entries_imported_into_an_empty_cache_are_hits()
    {
        _harness.WriteSource("src/a.txt", "a\n");
        var pipeline = Host(
            Cached("build", "cat src/a.txt > out.txt", null, OnChange("src/**")),
            Step("use", "cat out.txt", "build"));
        Assert.Equal(0, (await _harness.RunAsync(pipeline)).ExitCode);
        var bundle = Path.Combine(_harness.Root, "bundle.tar.gz");
        Assert.Equal(0, (await _harness.RunAsync([pipeline], ["cache", "export", bundle])).ExitCode);
        Assert.Equal(0, (await _harness.RunAsync([pipeline], ["cache", "clean"])).ExitCode);
        Assert.Equal(0, (await _harness.RunAsync([pipeline], ["cache", "import", bundle])).ExitCode);

        var rerun = await _harness.RunAsync(pipeline);

        Assert.True(rerun.Hit("build"), rerun.ToString());
        Assert.Equal(["use"], rerun.Executed);
        Assert.Equal(["a"], rerun.LogsOf("use"));
    }

    [Fact]
    public async Task A_cached_leaf_keeps_its_workspace_so_a_child_added_later_starts_from_its_hit()
    {
        var leaf = Cached("build", "echo artefact > out.txt", null, Forever());
        Assert.Equal(0, (await _harness.RunAsync(Host(leaf))).ExitCode);
        var entry = Assert.Single(new Harmont.Aot.Cache.CacheStore(_harness.Cache, TimeProvider.System).List());
        Assert.True(entry.Entry.HasWorkspace);
        Assert.Equal("artefact\n", File.ReadAllText(Path.Combine(entry.Directory, "workspace", "out.txt")));
        Assert.True(File.Exists(Path.Combine(entry.Directory, "sources")));
        Assert.True((await _harness.RunAsync(Host(leaf))).Hit("build"));

        var grown = await _harness.RunAsync(Host(leaf, Step("ship", "cat out.txt", "build")));

        Assert.True(grown.Hit("build"), grown.ToString());
        Assert.Equal(["ship"], grown.Executed);
        Assert.Equal(["artefact"], grown.LogsOf("ship"));
    }
}
