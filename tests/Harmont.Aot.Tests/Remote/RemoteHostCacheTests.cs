using Harmont.Aot.Model;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests;

/// <summary>
/// Host-backend entries shared through a real registry: workspaces only. Two harnesses are two machines, each with
/// its own source checkout and an empty cache dir; the project identity is fixed, as one origin URL would make it.
/// </summary>
public sealed class RemoteHostCacheTests : IAsyncLifetime
{
    private const string Secret = "tell-nobody-9f3a1c";
    private readonly RunHarness _a = new();
    private readonly RunHarness _b = new();
    private RegistryServer _registry = null!;

    public async ValueTask InitializeAsync()
    {
        _registry = await RegistryServer.StartAsync();
        foreach (var machine in new[] { _a, _b })
        {
            machine.Env["HARMONT_CACHE_REMOTE"] = _registry.Remote("team/host-cache");
            machine.Env["SHARED_TOKEN"] = Secret;
            machine.WriteSource("input.txt", "v1\n");
            machine.WriteSource("other.txt", "unchanged\n");
        }
    }

    public async ValueTask DisposeAsync()
    {
        _a.Dispose();
        _b.Dispose();
        await _registry.DisposeAsync();
    }

    private static PipelineDefinition Shared() => new()
    {
        Slug = "remote-host",
        Runner = Runner.Host,
        Project = "remote-cache-test",
        Steps =
        [
            new StepDefinition
            {
                Key = "deps",
                Label = "deps",
                Command = () => "echo deps-made > deps.out && echo \"$SHARED_TOKEN\" | wc -c",
                Secrets = ["SHARED_TOKEN"],
                Cache = [Forever()],
            },
            Cached("build", "cat deps.out input.txt > build.out && echo built >> build.out", "deps", OnChange("input.txt")),
            Cached("lint", "cat deps.out > lint.out && echo linted >> lint.out", "deps", Forever()),
            Step("report", "cat build.out other.txt", "build"),
        ],
    };

    [Fact]
    public async Task Machine_with_an_empty_cache_starts_from_the_other_machines_hits_and_gets_its_outputs()
    {
        var cold = await _a.RunAsync(Shared());
        Assert.True(cold.ExitCode == 0, cold.ToString());
        Assert.Equal(["build", "deps", "lint", "report"], cold.Executed.Order(StringComparer.Ordinal));
        Assert.Contains("3 pushed", cold.Error, StringComparison.Ordinal);

        var warm = await _b.RunAsync(Shared());

        Assert.True(warm.ExitCode == 0, warm.ToString());
        Assert.True(warm.Hit("deps") && warm.Hit("build") && warm.Hit("lint"), warm.ToString());
        Assert.Equal(["report"], warm.Executed);
        Assert.Equal(cold.LogsOf("report"), warm.LogsOf("report"));
        Assert.Contains("fetched", warm.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task After_a_one_file_edit_only_the_affected_steps_run_from_the_remote_parents_state()
    {
        var first = await _a.RunAsync(Shared());
        Assert.True(first.ExitCode == 0, first.ToString());

        _b.WriteSource("input.txt", "v2\n");
        var edited = await _b.RunAsync(Shared());

        Assert.True(edited.ExitCode == 0, edited.ToString());
        Assert.Equal(["build", "report"], edited.Executed);
        Assert.Equal(["deps-made", "v2", "built", "unchanged"], edited.LogsOf("report"));

        // A cold run of the edited tree on a third machine says the same.
        using var cold = new RunHarness();
        cold.WriteSource("input.txt", "v2\n");
        cold.WriteSource("other.txt", "unchanged\n");
        cold.Env["SHARED_TOKEN"] = Secret;
        var reference = await cold.RunAsync(Shared());
        Assert.Equal(reference.LogsOf("report"), edited.LogsOf("report"));
    }

    [Fact]
    public async Task Nothing_pushed_holds_a_secret_a_step_used()
    {
        var run = await _a.RunAsync(Shared());
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.NotEmpty(_registry.BlobFiles());

        // Layers are compressed, so each blob is searched as stored and, where it decompresses, as its tar.
        var secret = System.Text.Encoding.UTF8.GetBytes(Secret);
        foreach (var file in Directory.EnumerateFiles(_registry.Storage, "*", SearchOption.AllDirectories))
        {
            var bytes = await File.ReadAllBytesAsync(file, TestContext.Current.CancellationToken);
            Assert.False(bytes.AsSpan().IndexOf(secret) >= 0, $"{file} holds the secret");
            Assert.False(Decompressed(bytes).AsSpan().IndexOf(secret) >= 0, $"{file} holds the secret, compressed");
        }
    }

    private static byte[] Decompressed(byte[] blob)
    {
        try
        {
            using var tar = Harmont.Aot.Cache.CacheBundleFormat.Decompress(new MemoryStream(blob));
            using var plain = new MemoryStream();
            tar.CopyTo(plain);
            return plain.ToArray();
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or IOException)
        {
            return [];
        }
    }
}
