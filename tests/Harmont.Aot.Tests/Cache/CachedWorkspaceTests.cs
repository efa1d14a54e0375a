using System.Runtime.Versioning;
using Harmont.Aot.Tests.Workspaces;
using Harmont.Aot.Workspaces;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests.Cache;

/// <summary>
/// The HAR-22 regression, for every workspace strategy on a real reflink filesystem: a child of cache
/// hits executes on the hits' cached output with the current source laid over it (DESIGN §4.2).
/// </summary>
[Trait("Requires", "root")]
[SupportedOSPlatform("linux")]
public sealed class CachedWorkspaceTests(XfsLoopMount xfs) : IClassFixture<XfsLoopMount>
{
    public static TheoryData<string> Strategies => [.. WorkspaceStrategies.Names];

    [Theory]
    [MemberData(nameof(Strategies))]
    public async Task A_child_of_cache_hits_reads_the_new_source_and_what_the_cached_steps_produced(string strategy)
    {
        using var harness = new RunHarness();
        harness.Env["HARMONT_CACHE_DIR"] = xfs.NewDirectory("cache");
        harness.Env[WorkspaceStrategies.EnvironmentVariable] = strategy;
        harness.WriteSource("input.txt", "v1\n");
        harness.WriteSource("doomed.txt", "present");
        harness.WriteSource("lib/keep.txt", "kept source\n");
        var pipeline = Pipeline(
            "har22",
            Aot.Runner.Host,
            Cached("a", "echo made-by-a > a.out && mkdir -p node_modules/x && echo module > node_modules/x/index.js", null, Forever()),
            Cached("b", "cat a.out > b.out && echo made-by-b >> b.out", "a", Forever()),
            Step("c", "cat input.txt; cat b.out node_modules/x/index.js lib/keep.txt; if [ -e doomed.txt ]; then echo doomed-still-here; else echo doomed-gone; fi", "b"));

        var first = await harness.RunAsync(pipeline);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(["v1", "made-by-a", "made-by-b", "module", "kept source", "doomed-still-here"], first.LogsOf("c"));

        harness.WriteSource("input.txt", "v2\n");
        File.Delete(Path.Combine(harness.Source, "doomed.txt"));
        var second = await harness.RunAsync(pipeline);

        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.True(second.Hit("a") && second.Hit("b"), second.ToString());
        Assert.Equal(["c"], second.Executed);
        Assert.Equal(["v2", "made-by-a", "made-by-b", "module", "kept source", "doomed-gone"], second.LogsOf("c"));
        Assert.Empty(harness.LeftoverMounts());
        Assert.Empty(RunHarness.RunDirsIn(Path.Combine(harness.Env["HARMONT_CACHE_DIR"], "work")));

        // The entries themselves were only read: a third run sees exactly the same.
        var third = await harness.RunAsync(pipeline);
        Assert.Equal(second.LogsOf("c"), third.LogsOf("c"));
    }

    [Theory]
    [MemberData(nameof(Strategies))]
    public async Task A_step_over_a_cache_hit_keeps_only_its_own_layer_and_every_later_child_sees_the_whole_lineage(string strategy)
    {
        using var harness = new RunHarness();
        var cacheDir = xfs.NewDirectory("cache");
        harness.Env["HARMONT_CACHE_DIR"] = cacheDir;
        harness.Env[WorkspaceStrategies.EnvironmentVariable] = strategy;
        harness.WriteSource("input.txt", "v1\n");
        harness.WriteSource("doomed.txt", "present");
        harness.WriteSource("lib/keep.txt", "kept v1\n");
        var a = Cached("a", "echo made-by-a > a.out && echo old > unwanted.txt && mkdir -p d && echo old > d/old.txt", null, Forever());

        // b deletes a file of a's and replaces a directory of a's: a whiteout and an opaque directory in its layer.
        var b = Cached("b", "cat lib/keep.txt > b.out && rm unwanted.txt && rm -rf d && mkdir d && echo new > d/new.txt", "a", OnChange("lib/**"));
        var c = Step("c", "cat input.txt a.out b.out; ls d; for f in unwanted.txt doomed.txt; do [ -e $f ] && echo $f-here || echo $f-gone; done", "b");

        Assert.Equal(0, (await harness.RunAsync(Pipeline("layers", Aot.Runner.Host, a, b))).ExitCode);
        harness.WriteSource("lib/keep.txt", "kept v2\n");
        var edited = await harness.RunAsync(Pipeline("layers", Aot.Runner.Host, a, b));
        Assert.True(edited.ExitCode == 0, edited.ToString());
        Assert.True(edited.Hit("a"), edited.ToString());
        Assert.Equal(["b"], edited.Executed);

        var store = new Harmont.Aot.Cache.CacheStore(cacheDir, TimeProvider.System);
        var entryA = store.List().Single(l => l.Entry.Step == "a");
        var entryB = store.List().Where(l => l.Entry.Step == "b").MaxBy(l => l.Entry.Created)!;
        Assert.True(entryB.Entry.HasWorkspace);
        if (strategy is WorkspaceStrategies.Overlay or WorkspaceStrategies.FuseOverlay)
        {
            // Only what b changed is stored: the rest is a's entry, below it.
            Assert.Equal(entryA.Entry.Key, entryB.Entry.Base);
            Assert.Equal(strategy, entryB.Entry.LayerStrategy);
            Assert.False(File.Exists(Path.Combine(entryB.Directory, "workspace", "a.out")));
            Assert.Equal("kept v2\n", File.ReadAllText(Path.Combine(entryB.Directory, "workspace", "b.out")));
        }
        else
        {
            Assert.Null(entryB.Entry.Base);
            Assert.True(File.Exists(Path.Combine(entryB.Directory, "workspace", "a.out")));
        }

        harness.WriteSource("input.txt", "v2\n");
        File.Delete(Path.Combine(harness.Source, "doomed.txt"));
        string[] expected = ["v2", "made-by-a", "kept v2", "new.txt", "unwanted.txt-gone", "doomed.txt-gone"];
        var grown = await harness.RunAsync(Pipeline("layers", Aot.Runner.Host, a, b, c));
        Assert.True(grown.ExitCode == 0, grown.ToString());
        Assert.True(grown.Hit("a") && grown.Hit("b"), grown.ToString());
        Assert.Equal(expected, grown.LogsOf("c"));
        Assert.Empty(harness.LeftoverMounts());

        // b again over a's hit, now with a child in the same run: its layer is kept for c and linked into the entry.
        harness.WriteSource("lib/keep.txt", "kept v3\n");
        expected = ["v2", "made-by-a", "kept v3", "new.txt", "unwanted.txt-gone", "doomed.txt-gone"];
        var parent = await harness.RunAsync(Pipeline("layers", Aot.Runner.Host, a, b, c));
        Assert.True(parent.ExitCode == 0, parent.ToString());
        Assert.Equal(["b", "c"], parent.Executed);
        Assert.Equal(expected, parent.LogsOf("c"));
        var entryB3 = store.List().Where(l => l.Entry.Step == "b").MaxBy(l => l.Entry.Created)!;
        Assert.Equal(strategy is WorkspaceStrategies.Overlay or WorkspaceStrategies.FuseOverlay ? entryA.Entry.Key : null, entryB3.Entry.Base);
        var reread = await harness.RunAsync(Pipeline("layers", Aot.Runner.Host, a, b, c));
        Assert.True(reread.Hit("a") && reread.Hit("b"), reread.ToString());
        Assert.Equal(expected, reread.LogsOf("c"));

        // Through a bundle: whiteouts and opaque directories survive export and import.
        var bundle = Path.Combine(harness.Root, "bundle.tar.gz");
        Assert.Equal(0, (await harness.RunAsync([], ["cache", "export", bundle])).ExitCode);
        Assert.Equal(0, (await harness.RunAsync([], ["cache", "clean"])).ExitCode);
        var imported = await harness.RunAsync([], ["cache", "import", bundle]);
        Assert.True(imported.ExitCode == 0, imported.ToString());
        var again = await harness.RunAsync(Pipeline("layers", Aot.Runner.Host, a, b, c));
        Assert.True(again.Hit("a") && again.Hit("b"), again.ToString());
        Assert.Equal(expected, again.LogsOf("c"));
    }
}
