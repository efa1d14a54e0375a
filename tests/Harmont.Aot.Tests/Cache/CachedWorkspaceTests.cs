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
}
