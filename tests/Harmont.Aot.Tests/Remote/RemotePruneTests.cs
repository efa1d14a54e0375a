using Harmont.Aot.Cache.Remote;
using Harmont.Aot.Model;
using TUnit.Assertions.Enums;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests;

/// <summary>Retention on a real registry: the newest N entries of each step stay, the rest are deleted.</summary>
[NotInParallel(nameof(RemotePruneTests))]
public sealed class RemotePruneTests : IAsyncDisposable
{
    // Its own repository: the suite's registry (tests/run.sh) holds every test's entries.
    private readonly string _repository = $"team/prune-{Guid.NewGuid():N}";

    private readonly RunHarness _a = new();
    private readonly RunHarness _b = new();
    private RegistryServer _registry = null!;

    [Before(Test)]
    public async Task InitializeAsync()
    {
        _registry = await RegistryServer.SharedAsync();
        _a.Env["HARMONT_CACHE_REMOTE"] = _registry.Remote(_repository);
        _b.Env["HARMONT_CACHE_REMOTE"] = _registry.Remote(_repository, "?mode=read");
    }

    public async ValueTask DisposeAsync()
    {
        _a.Dispose();
        _b.Dispose();
        await _registry.DisposeAsync();
    }

    private static PipelineDefinition Chain() => new()
    {
        Slug = "remote-prune",
        Runner = Runner.Host,
        Project = "remote-prune-test",
        Steps =
        [
            Cached("one", "echo one > one.out", null, Forever()),
            Cached("two", "cat one.out input.txt > two.out", "one", OnChange("input.txt")),
            Cached("three", "cat two.out", "two", Forever()),
        ],
    };

    [Test]
    public async Task Prune_keeps_the_newest_entry_of_each_step_and_deletes_the_older_ones(CancellationToken cancellationToken)
    {
        foreach (var version in new[] { "v1", "v2", "v3" })
        {
            _a.WriteSource("input.txt", version + "\n");
            var run = await _a.RunAsync(Chain());
            await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        }

        using var client = new RegistryClient(RemoteCacheSetting.Parse(_registry.Remote(_repository)), new RegistryCredentials(_ => null));
        var result = await RemotePrune.PruneAsync(client, 1, cancellationToken);

        await Assert.That(result).IsEqualTo(new RemotePruneResult(Kept: 3, Deleted: 4, Refused: 0, Unreadable: 0));
        await Assert.That((await client.ListTagsAsync(cancellationToken)).Count).IsEqualTo(3);

        _b.WriteSource("input.txt", "v3\n");
        var newest = await _b.RunAsync(Chain());
        await Assert.That(newest.Hit("one") && newest.Hit("two") && newest.Hit("three")).IsTrue().Because(newest.ToString());

        using var c = new RunHarness();
        c.Env["HARMONT_CACHE_REMOTE"] = _registry.Remote(_repository, "?mode=read");
        c.WriteSource("input.txt", "v1\n");
        var pruned = await c.RunAsync(Chain());
        await Assert.That(pruned.Hit("one")).IsTrue().Because(pruned.ToString());
        await Assert.That(pruned.Executed).IsEquivalentTo((IEnumerable<string>)["two", "three"], CollectionOrdering.Matching);
    }
}
