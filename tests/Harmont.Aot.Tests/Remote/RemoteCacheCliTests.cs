using Harmont.Aot.Model;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests;

/// <summary>The shared cache on the command line: --cache-remote on run, cache prune --remote --keep N, and bad input.</summary>
public sealed class RemoteCacheCliTests : IAsyncLifetime
{
    private readonly RunHarness _a = new();
    private readonly RunHarness _b = new();
    private RegistryServer _registry = null!;

    public async ValueTask InitializeAsync() => _registry = await RegistryServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        _a.Dispose();
        _b.Dispose();
        await _registry.DisposeAsync();
    }

    private static PipelineDefinition Chain() => new()
    {
        Slug = "remote-cli",
        Runner = Runner.Host,
        Project = "remote-cli-test",
        Steps = [Cached("one", "echo one > one.out", null, Forever()), Cached("two", "cat one.out input.txt", "one", OnChange("input.txt"))],
    };

    [Fact]
    public async Task Flag_shares_the_cache_and_wins_over_the_environment()
    {
        _a.WriteSource("input.txt", "v1\n");
        _b.WriteSource("input.txt", "v1\n");
        _b.Env["HARMONT_CACHE_REMOTE"] = "oci://127.0.0.1:1/nowhere";

        var pushed = await _a.RunAsync(Chain(), "--cache-remote", _registry.Remote("team/cli"));
        var fetched = await _b.RunAsync(Chain(), $"--cache-remote={_registry.Remote("team/cli", "?mode=read")}");

        Assert.True(pushed.ExitCode == 0 && pushed.Error.Contains("2 pushed", StringComparison.Ordinal), pushed.ToString());
        Assert.True(fetched.ExitCode == 0 && fetched.Hit("one") && fetched.Hit("two"), fetched.ToString());
    }

    [Fact]
    public async Task Prune_remote_keeps_the_newest_per_step()
    {
        foreach (var version in new[] { "v1", "v2" })
        {
            _a.WriteSource("input.txt", version + "\n");
            Assert.Equal(0, (await _a.RunAsync(Chain(), "--cache-remote", _registry.Remote("team/cli"))).ExitCode);
        }

        var prune = await _a.RunAsync([], ["cache", "prune", "--remote", "--keep", "1", "--cache-remote", _registry.Remote("team/cli")]);

        Assert.True(prune.ExitCode == 0, prune.ToString());
        Assert.Contains("kept 2 entries (the newest 1 per step), deleted 1.", prune.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "run", "--cache-remote", "https://ghcr.io/a" }, "does not start with oci://")]
    [InlineData(new[] { "cache", "prune", "--remote" }, "needs the registry")]
    [InlineData(new[] { "cache", "prune", "--remote", "--cache-remote", "oci://h:1/r" }, "needs --keep N")]
    [InlineData(new[] { "cache", "prune", "--keep", "2" }, "go with 'cache prune --remote'")]
    public async Task Bad_shared_cache_input_is_one_usage_line(string[] args, string problem)
    {
        _a.Env["HARMONT_CACHE_REMOTE"] = "";
        var run = await _a.RunAsync([Chain()], args);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains(problem, run.Error, StringComparison.Ordinal);
        Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
