using Harmont.Aot.Cache.Remote;
using Harmont.Aot.Model;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests;

/// <summary>Retention on a real registry: the newest N entries of each step stay, the rest are deleted.</summary>
public sealed class RemotePruneTests : IAsyncLifetime
{
    private readonly RunHarness _a = new();
    private readonly RunHarness _b = new();
    private RegistryServer _registry = null!;

    public async ValueTask InitializeAsync()
    {
        _registry = await RegistryServer.StartAsync();
        _a.Env["HARMONT_CACHE_REMOTE"] = _registry.Remote("team/prune");
        _b.Env["HARMONT_CACHE_REMOTE"] = _registry.Remote("team/prune", "?mode=read");
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

    [Fact]
    public async Task Prune_keeps_the_newest_entry_of_each_step_and_deletes_the_older_ones()
    {
        foreach (var version in new[] { "v1", "v2", "v3" })
        {
            _a.WriteSource("input.txt", version + "\n");
            var run = await _a.RunAsync(Chain());
            Assert.True(run.ExitCode == 0, run.ToString());
        }

        using var client = new RegistryClient(RemoteCacheSetting.Parse(_registry.Remote("team/prune")), new RegistryCredentials(_ => null));
        var result = await RemotePrune.PruneAsync(client, 1, TestContext.Current.CancellationToken);

        Assert.Equal(new RemotePruneResult(Kept: 3, Deleted: 4, Refused: 0, Unreadable: 0), result);
        Assert.Equal(3, (await client.ListTagsAsync(TestContext.Current.CancellationToken)).Count);

        _b.WriteSource("input.txt", "v3\n");
        var newest = await _b.RunAsync(Chain());
        Assert.True(newest.Hit("one") && newest.Hit("two") && newest.Hit("three"), newest.ToString());

        using var c = new RunHarness();
        c.Env["HARMONT_CACHE_REMOTE"] = _registry.Remote("team/prune", "?mode=read");
        c.WriteSource("input.txt", "v1\n");
        var pruned = await c.RunAsync(Chain());
        Assert.True(pruned.Hit("one"), pruned.ToString());
        Assert.Equal(["two", "three"], pruned.Executed);
    }
}
