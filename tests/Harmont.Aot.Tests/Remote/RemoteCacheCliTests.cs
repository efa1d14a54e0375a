using Harmont.Aot.Model;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests;

/// <summary>The shared cache on the command line: --cache-remote on run, cache prune --remote --keep N, and bad input.</summary>
[NotInParallel(nameof(RemoteCacheCliTests))]
public sealed class RemoteCacheCliTests : IAsyncDisposable
{
    // Its own repository: the suite's registry (tests/run.sh) holds every test's entries.
    private readonly string _repository = $"team/cli-{Guid.NewGuid():N}";

    private readonly RunHarness _a = new();
    private readonly RunHarness _b = new();
    private RegistryServer _registry = null!;

    [Before(Test)]
    public async Task InitializeAsync() => _registry = await RegistryServer.SharedAsync();

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

    [Test]
    public async Task Flag_shares_the_cache_and_wins_over_the_environment()
    {
        _a.WriteSource("input.txt", "v1\n");
        _b.WriteSource("input.txt", "v1\n");
        _b.Env["HARMONT_CACHE_REMOTE"] = "oci://127.0.0.1:1/nowhere";

        var pushed = await _a.RunAsync(Chain(), "--cache-remote", _registry.Remote(_repository));
        var fetched = await _b.RunAsync(Chain(), $"--cache-remote={_registry.Remote(_repository, "?mode=read")}");

        await Assert.That(pushed.ExitCode == 0 && pushed.Error.Contains("2 pushed", StringComparison.Ordinal)).IsTrue().Because(pushed.ToString());
        await Assert.That(fetched.ExitCode == 0 && fetched.Hit("one") && fetched.Hit("two")).IsTrue().Because(fetched.ToString());
    }

    [Test]
    public async Task Prune_remote_keeps_the_newest_per_step()
    {
        foreach (var version in new[] { "v1", "v2" })
        {
            _a.WriteSource("input.txt", version + "\n");
            await Assert.That((await _a.RunAsync(Chain(), "--cache-remote", _registry.Remote(_repository))).ExitCode).IsEqualTo(0);
        }

        var prune = await _a.RunAsync([], ["cache", "prune", "--remote", "--keep", "1", "--cache-remote", _registry.Remote(_repository)]);

        await Assert.That(prune.ExitCode == 0).IsTrue().Because(prune.ToString());
        await Assert.That(prune.Output).Contains("kept 2 entries (the newest 1 per step), deleted 1.", StringComparison.Ordinal);
    }

    [Test]
    [Arguments(new[] { "run", "--cache-remote", "https://ghcr.io/a" }, "does not start with oci://")]
    [Arguments(new[] { "cache", "prune", "--remote" }, "needs the registry")]
    [Arguments(new[] { "cache", "prune", "--remote", "--cache-remote", "oci://h:1/r" }, "needs --keep N")]
    [Arguments(new[] { "cache", "prune", "--keep", "2" }, "go with 'cache prune --remote'")]
    public async Task Bad_shared_cache_input_is_one_usage_line(string[] args, string problem)
    {
        _a.Env["HARMONT_CACHE_REMOTE"] = "";
        var run = await _a.RunAsync([Chain()], args);

        await Assert.That(run.ExitCode == 2).IsTrue().Because(run.ToString());
        await Assert.That(run.Error).Contains(problem, StringComparison.Ordinal);
        await Assert.That(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)).HasSingleItem();
    }
}
