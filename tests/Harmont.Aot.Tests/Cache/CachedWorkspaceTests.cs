using System.Runtime.Versioning;
using Harmont.Aot.Tests.Workspaces;
using Harmont.Aot.Workspaces;
using TUnit.Assertions.Enums;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests.Cache;

/// <summary>
/// A regression test, for every workspace strategy on a real reflink filesystem: a child of cache
/// hits executes on the hits' cached output with the current source laid over it (docs/workspaces.md).
/// </summary>
[Property("Requires", "root")]
[SupportedOSPlatform("linux")]
[NotInParallel(nameof(CachedWorkspaceTests))]
[ClassDataSource<XfsLoopMount>(Shared = SharedType.PerTestSession)]
public sealed class CachedWorkspaceTests(XfsLoopMount xfs)
{
    public static IEnumerable<string> Strategies => [.. WorkspaceStrategies.Names];

    [Test]
    [MethodDataSource(nameof(Strategies))]
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
        await Assert.That(first.ExitCode == 0).IsTrue().Because(first.ToString());
        await Assert.That(first.LogsOf("c"))
            .IsEquivalentTo((IEnumerable<string>)["v1", "made-by-a", "made-by-b", "module", "kept source", "doomed-still-here"], CollectionOrdering.Matching);

        harness.WriteSource("input.txt", "v2\n");
        File.Delete(Path.Combine(harness.Source, "doomed.txt"));
        var second = await harness.RunAsync(pipeline);

        await Assert.That(second.ExitCode == 0).IsTrue().Because(second.ToString());
        await Assert.That(second.Hit("a") && second.Hit("b")).IsTrue().Because(second.ToString());
        await Assert.That(second.Executed).IsEquivalentTo((IEnumerable<string>)["c"], CollectionOrdering.Matching);
        await Assert.That(second.LogsOf("c"))
            .IsEquivalentTo((IEnumerable<string>)["v2", "made-by-a", "made-by-b", "module", "kept source", "doomed-gone"], CollectionOrdering.Matching);
        await Assert.That(harness.LeftoverMounts()).IsEmpty();
        await Assert.That(RunHarness.RunDirsIn(Path.Combine(harness.Env["HARMONT_CACHE_DIR"], "work"))).IsEmpty();

        // The entries themselves were only read: a third run sees exactly the same.
        var third = await harness.RunAsync(pipeline);
        await Assert.That(third.LogsOf("c")).IsEquivalentTo(second.LogsOf("c"), CollectionOrdering.Matching);
    }

    [Test]
    [MethodDataSource(nameof(Strategies))]
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

        await Assert.That((await harness.RunAsync(Pipeline("layers", Aot.Runner.Host, a, b))).ExitCode).IsEqualTo(0);
        harness.WriteSource("lib/keep.txt", "kept v2\n");
        var edited = await harness.RunAsync(Pipeline("layers", Aot.Runner.Host, a, b));
        await Assert.That(edited.ExitCode == 0).IsTrue().Because(edited.ToString());
        await Assert.That(edited.Hit("a")).IsTrue().Because(edited.ToString());
        await Assert.That(edited.Executed).IsEquivalentTo((IEnumerable<string>)["b"], CollectionOrdering.Matching);

        var store = new Harmont.Aot.Cache.CacheStore(cacheDir, TimeProvider.System);
        var entryA = store.List().Single(l => l.Entry.Step == "a");
        var entryB = store.List().Where(l => l.Entry.Step == "b").MaxBy(l => l.Entry.Created)!;
        await Assert.That(entryB.Entry.HasWorkspace).IsTrue();
        if (strategy is WorkspaceStrategies.Overlay or WorkspaceStrategies.FuseOverlay)
        {
            // Only what b changed is stored: the rest is a's entry, below it.
            await Assert.That(entryB.Entry.Base).IsEqualTo(entryA.Entry.Key);
            await Assert.That(entryB.Entry.LayerStrategy).IsEqualTo(strategy);
            await Assert.That(File.Exists(Path.Combine(entryB.Directory, "workspace", "a.out"))).IsFalse();
            await Assert.That(File.ReadAllText(Path.Combine(entryB.Directory, "workspace", "b.out"))).IsEqualTo("kept v2\n");
        }
        else
        {
            await Assert.That(entryB.Entry.Base).IsNull();
            await Assert.That(File.Exists(Path.Combine(entryB.Directory, "workspace", "a.out"))).IsTrue();
        }

        harness.WriteSource("input.txt", "v2\n");
        File.Delete(Path.Combine(harness.Source, "doomed.txt"));
        string[] expected = ["v2", "made-by-a", "kept v2", "new.txt", "unwanted.txt-gone", "doomed.txt-gone"];
        var grown = await harness.RunAsync(Pipeline("layers", Aot.Runner.Host, a, b, c));
        await Assert.That(grown.ExitCode == 0).IsTrue().Because(grown.ToString());
        await Assert.That(grown.Hit("a") && grown.Hit("b")).IsTrue().Because(grown.ToString());
        await Assert.That(grown.LogsOf("c")).IsEquivalentTo(expected, CollectionOrdering.Matching);
        await Assert.That(harness.LeftoverMounts()).IsEmpty();

        // b again over a's hit, now with a child in the same run: its layer is kept for c and linked into the entry.
        harness.WriteSource("lib/keep.txt", "kept v3\n");
        expected = ["v2", "made-by-a", "kept v3", "new.txt", "unwanted.txt-gone", "doomed.txt-gone"];
        var parent = await harness.RunAsync(Pipeline("layers", Aot.Runner.Host, a, b, c));
        await Assert.That(parent.ExitCode == 0).IsTrue().Because(parent.ToString());
        await Assert.That(parent.Executed).IsEquivalentTo((IEnumerable<string>)["b", "c"], CollectionOrdering.Matching);
        await Assert.That(parent.LogsOf("c")).IsEquivalentTo(expected, CollectionOrdering.Matching);
        var entryB3 = store.List().Where(l => l.Entry.Step == "b").MaxBy(l => l.Entry.Created)!;
        await Assert.That(entryB3.Entry.Base)
            .IsEqualTo(strategy is WorkspaceStrategies.Overlay or WorkspaceStrategies.FuseOverlay ? entryA.Entry.Key : null);
        var reread = await harness.RunAsync(Pipeline("layers", Aot.Runner.Host, a, b, c));
        await Assert.That(reread.Hit("a") && reread.Hit("b")).IsTrue().Because(reread.ToString());
        await Assert.That(reread.LogsOf("c")).IsEquivalentTo(expected, CollectionOrdering.Matching);

        // Through a bundle: whiteouts and opaque directories survive export and import.
        var bundle = Path.Combine(harness.Root, "bundle.tar.gz");
        await Assert.That((await harness.RunAsync([], ["cache", "export", bundle])).ExitCode).IsEqualTo(0);
        await Assert.That((await harness.RunAsync([], ["cache", "clean"])).ExitCode).IsEqualTo(0);
        var imported = await harness.RunAsync([], ["cache", "import", bundle]);
        await Assert.That(imported.ExitCode == 0).IsTrue().Because(imported.ToString());
        var again = await harness.RunAsync(Pipeline("layers", Aot.Runner.Host, a, b, c));
        await Assert.That(again.Hit("a") && again.Hit("b")).IsTrue().Because(again.ToString());
        await Assert.That(again.LogsOf("c")).IsEquivalentTo(expected, CollectionOrdering.Matching);
    }
    [Test]
    [MethodDataSource(nameof(Strategies))]
    public async Task A_cold_chain_stores_each_step_as_its_own_layer_up_to_a_bound_and_its_hits_equal_the_cold_run(string strategy)
    {
        using var harness = new RunHarness();
        var cacheDir = xfs.NewDirectory("cache");
        harness.Env["HARMONT_CACHE_DIR"] = cacheDir;
        harness.Env[WorkspaceStrategies.EnvironmentVariable] = strategy;
        harness.WriteSource("seed.txt", "seed\n");

        // Each step adds a file, rewrites one and deletes one: new files, copies-up and whiteouts in every layer.
        const int depth = 20;
        var steps = Enumerable.Range(1, depth)
            .Select(i => Cached($"s{i}", $"echo {i} > s{i}.out && echo {i} >> seed.txt && rm -f s{i - 2}.out", i == 1 ? null : $"s{i - 1}", Forever()))
            .Append(Step("check", "ls; cat seed.txt", $"s{depth}"))
            .ToArray();
        var cold = await harness.RunAsync(Pipeline("chain", Aot.Runner.Host, steps));
        await Assert.That(cold.ExitCode == 0).IsTrue().Because(cold.ToString());

        var store = new Harmont.Aot.Cache.CacheStore(cacheDir, TimeProvider.System);
        var entries = store.List().ToDictionary(l => l.Entry.Step, l => l.Entry);
        var layered = strategy is WorkspaceStrategies.Overlay or WorkspaceStrategies.FuseOverlay;
        for (var i = 1; i <= depth; i++)
        {
            // A whole tree at the root and after every 16 layers, else only what the step changed, over its parent's entry.
            var expectedBase = layered && (i - 1) % 16 != 0 ? entries[$"s{i - 1}"].Key : null;
            await Assert.That(entries[$"s{i}"].Base).IsEqualTo(expectedBase).Because($"s{i}");
        }

        var hits = await harness.RunAsync(Pipeline("chain", Aot.Runner.Host, steps));
        await Assert.That(hits.ExitCode == 0).IsTrue().Because(hits.ToString());
        await Assert.That(hits.Executed).IsEquivalentTo((IEnumerable<string>)["check"], CollectionOrdering.Matching);
        await Assert.That(hits.LogsOf("check")).IsEquivalentTo(cold.LogsOf("check"), CollectionOrdering.Matching);
        await Assert.That(harness.LeftoverMounts()).IsEmpty();
    }
}
