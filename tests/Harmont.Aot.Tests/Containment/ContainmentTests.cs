using System.Runtime.Versioning;
using Harmont.Aot.Cache;
using Harmont.Aot.Model;
using Harmont.Aot.Tests.Workspaces;
using Harmont.Aot.Workspaces;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests.Containment;

/// <summary>
/// DESIGN §4.7 end to end: what a step leaves in its workspace (links to the host, links that loop, names
/// that are not UTF-8) never makes the runner touch a path outside its work and cache dirs, and survives
/// every workspace strategy and the cache byte for byte.
/// </summary>
[Trait("Requires", "root")]
[SupportedOSPlatform("linux")]
public sealed class ContainmentTests(XfsLoopMount xfs) : IClassFixture<XfsLoopMount>, IDisposable
{
    private readonly RunHarness _harness = new();

    public static TheoryData<string> Strategies => [.. WorkspaceStrategies.Names];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task A_cached_step_that_links_a_source_dir_to_the_host_cannot_make_the_runner_delete_host_files()
    {
        var hostDir = Directory.CreateTempSubdirectory("harmont-victim-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(hostDir, "old.txt"), "the host's file");
            await GitRepo.InitAsync(_harness, ("src/old.txt", "source"), ("src/keep.txt", "kept"));
            var pipeline = Pipeline(
                "escape",
                Runner.Host,
                Cached("deps", $"rm -rf src && ln -s {hostDir} src", null, Forever()),
                Step("build", "ls -la; cat src/keep.txt 2>/dev/null || echo no-keep", "deps"));
            Assert.Equal(0, (await _harness.RunAsync(pipeline)).ExitCode);

            await GitRepo.RunAsync(_harness, "rm", "-q", "src/old.txt");
            await GitRepo.RunAsync(_harness, "commit", "-qm", "remove old");
            var second = await _harness.RunAsync(pipeline);

            Assert.True(second.Hit("deps"), second.ToString());
            Assert.Equal(0, second.ExitCode);
            Assert.Equal("the host's file", await File.ReadAllTextAsync(Path.Combine(hostDir, "old.txt"), Ct));
            Assert.Equal(["old.txt"], Directory.GetFileSystemEntries(hostDir).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(hostDir, recursive: true);
        }
    }

    [Fact]
    public async Task Sizing_counts_a_link_as_a_link_so_self_and_root_links_cache_small()
    {
        _harness.WriteSource("a.txt", "a");
        var pipeline = Pipeline(
            "links",
            Runner.Host,
            Cached("loops", "ln -s . self && ln -s / rootlink && ln -s ../.. up", null, Forever()),
            Step("child", "ls -l self rootlink up", "loops"));

        var first = await _harness.RunAsync(pipeline);
        var second = await _harness.RunAsync(pipeline);

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.True(second.Hit("loops"), second.ToString());
        var entry = Assert.Single(new CacheStore(_harness.Cache, TimeProvider.System).List());
        Assert.InRange(entry.Entry.Size, 1, 64 * 1024);
        Assert.Empty(_harness.LeftoverRunDirs());
    }

    [Theory]
    [MemberData(nameof(Strategies))]
    public async Task Names_that_are_not_utf8_round_trip_through_the_workspace_strategy_and_the_cache(string strategy)
    {
        var work = xfs.NewDirectory("names");
        _harness.Env["HARMONT_CACHE_DIR"] = Path.Combine(work, "cache");
        _harness.Env["HARMONT_WORKSPACE_STRATEGY"] = strategy;
        _harness.WriteSource("a.txt", "a");
        const string Check = """for n in "$(printf 'bad\377name')" "$(printf 'new\nline')" "$(printf 'dir\376')/inner"; do [ -f "$n" ] && printf '%s' "$n" | od -An -c | tr -s ' '; done""";
        var pipeline = Pipeline(
            "names",
            Runner.Host,
            Cached(
                "make",
                """printf x > "$(printf 'bad\377name')" && printf y > "$(printf 'new\nline')" && mkdir "$(printf 'dir\376')" && printf z > "$(printf 'dir\376')/inner" """,
                null,
                Forever()),
            Step("child", Check, "make"));

        var first = await _harness.RunAsync(pipeline);
        var second = await _harness.RunAsync(pipeline);

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.True(second.Hit("make"), second.ToString());
        Assert.Equal(3, first.LogsOf("child").Count);
        Assert.Equal(first.LogsOf("child"), second.LogsOf("child"));
        Assert.Empty(RunHarness.RunDirsIn(Path.Combine(work, "cache", "work")));
    }
}
