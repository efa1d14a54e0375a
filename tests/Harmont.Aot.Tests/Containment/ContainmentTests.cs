using System.Runtime.Versioning;
using Harmont.Aot.Cache;
using Harmont.Aot.Model;
using Harmont.Aot.Tests.Workspaces;
using Harmont.Aot.Workspaces;
using TUnit.Assertions.Enums;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests.Containment;

/// <summary>
/// Containment (docs/workspaces.md) end to end: what a step leaves in its workspace (links to the host, links that loop, names
/// that are not UTF-8) never makes the runner touch a path outside its work and cache dirs, and survives
/// every workspace strategy and the cache byte for byte.
/// </summary>
[Property("Requires", "root")]
[SupportedOSPlatform("linux")]
[NotInParallel(nameof(ContainmentTests))]
[ClassDataSource<XfsLoopMount>(Shared = SharedType.PerTestSession)]
public sealed class ContainmentTests(XfsLoopMount xfs) : IDisposable
{
    private readonly RunHarness _harness = new();

    public static IEnumerable<string> Strategies => [.. WorkspaceStrategies.Names];

    public void Dispose() => _harness.Dispose();

    [Test]
    public async Task A_cached_step_that_links_a_source_dir_to_the_host_cannot_make_the_runner_delete_host_files(CancellationToken cancellationToken)
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
            await Assert.That((await _harness.RunAsync(pipeline)).ExitCode).IsEqualTo(0);

            await GitRepo.RunAsync(_harness, "rm", "-q", "src/old.txt");
            await GitRepo.RunAsync(_harness, "commit", "-qm", "remove old");
            var second = await _harness.RunAsync(pipeline);

            await Assert.That(second.Hit("deps")).IsTrue().Because(second.ToString());
            await Assert.That(second.ExitCode).IsEqualTo(0);
            await Assert.That(await File.ReadAllTextAsync(Path.Combine(hostDir, "old.txt"), cancellationToken)).IsEqualTo("the host's file");
            await Assert.That(Directory.GetFileSystemEntries(hostDir).Select(Path.GetFileName))
                .IsEquivalentTo((IEnumerable<string?>)["old.txt"], CollectionOrdering.Matching);
        }
        finally
        {
            Directory.Delete(hostDir, recursive: true);
        }
    }

    [Test]
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

        await Assert.That(first.ExitCode == 0).IsTrue().Because(first.ToString());
        await Assert.That(second.Hit("loops")).IsTrue().Because(second.ToString());
        var entry = await Assert.That(new CacheStore(_harness.Cache, TimeProvider.System).List()).HasSingleItem();
        await Assert.That(entry.Entry.Size).IsBetween(1, 64 * 1024);
        await Assert.That(_harness.LeftoverRunDirs()).IsEmpty();
    }

    [Test]
    [MethodDataSource(nameof(Strategies))]
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

        await Assert.That(first.ExitCode == 0).IsTrue().Because(first.ToString());
        await Assert.That(second.ExitCode == 0).IsTrue().Because(second.ToString());
        await Assert.That(second.Hit("make")).IsTrue().Because(second.ToString());
        await Assert.That(first.LogsOf("child").Count).IsEqualTo(3);
        await Assert.That(second.LogsOf("child")).IsEquivalentTo(first.LogsOf("child"), CollectionOrdering.Matching);
        await Assert.That(RunHarness.RunDirsIn(Path.Combine(work, "cache", "work"))).IsEmpty();
    }
}
