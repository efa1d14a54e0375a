using Harmont.Aot.Cache.Remote;
using Harmont.Aot.Model;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests;

/// <summary>
/// Two machines sharing one registry: machine A is this machine's engine, machine B a second dockerd with an empty
/// cache dir and none of A's images. B running A's commit starts from hits and starts no container; after an edit on B
/// exactly the affected steps run, from the remote parents' system state and workspace, and equal a cold run.
/// </summary>
[Trait("Requires", "docker")]
[Trait("Requires", "root")]
public sealed class RemoteDockerCacheTests : IAsyncLifetime
{
    private readonly RunHarness _a = new();
    private readonly RunHarness _b = new();
    private readonly RunHarness _cold = new();
    private RegistryServer _registry = null!;
    private SecondEngine _engineB = null!;

    public async ValueTask InitializeAsync()
    {
        await BusyboxImage.EnsureAsync();
        _registry = await RegistryServer.StartAsync();
        _engineB = await SecondEngine.StartAsync();
        _b.Env["DOCKER_HOST"] = _engineB.DockerHost;
        foreach (var machine in new[] { _a, _b, _cold })
        {
            machine.WriteSource("input.txt", "v1\n");
            machine.WriteSource("other.txt", "other\n");
        }

        _a.Env["HARMONT_CACHE_REMOTE"] = _registry.Remote("team/docker-cache");
        _b.Env["HARMONT_CACHE_REMOTE"] = _registry.Remote("team/docker-cache");
    }

    public async ValueTask DisposeAsync()
    {
        await _a.RunAsync([], ["cache", "clean"]);
        await _cold.RunAsync([], ["cache", "clean"]);
        _a.Dispose();
        _b.Dispose();
        _cold.Dispose();
        await _engineB.DisposeAsync();
        await _registry.DisposeAsync();
    }

    // A fork (build and lint from deps), a chain (deps, build, package, report) and onChange steps; each step
    // leaves a mark in the image (/etc/marks) as well as the workspace, so both must come across.
    private static PipelineDefinition Shared() => Project(Pipeline(
        "remote-docker",
        Runner.Docker,
        Cached("deps", "echo deps > deps.out && echo deps > /etc/marks", null, Forever()),
        Cached("build", "cat deps.out input.txt > build.out && echo build >> /etc/marks", "deps", OnChange("input.txt")),
        Cached("lint", "cat deps.out /etc/marks > lint.out", "deps", Forever()),
        Cached("package", "cat build.out > package.out && echo package >> /etc/marks", "build", Forever()),
        Cached("report", "cat package.out other.txt /etc/marks", "package", OnChange("other.txt"))));

    [Fact]
    public async Task Machine_B_starts_from_machine_As_hits_runs_no_container_and_after_an_edit_runs_only_what_changed()
    {
        var first = await _a.RunAsync(Shared());
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("5 pushed", first.Error, StringComparison.Ordinal);

        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        var same = await _b.RunAsync(Shared());
        var until = DateTimeOffset.UtcNow.AddSeconds(1);

        Assert.True(same.ExitCode == 0, same.ToString());
        Assert.Empty(same.Executed);
        Assert.All(["deps", "build", "lint", "package", "report"], step => Assert.True(same.Hit(step), same.ToString()));
        Assert.Empty(await ContainersCreatedOnBAsync(since, until));

        _b.WriteSource("input.txt", "v2\n");
        var edited = await _b.RunAsync(Shared());

        Assert.True(edited.ExitCode == 0, edited.ToString());
        Assert.Equal(["build", "package", "report"], edited.Executed);
        Assert.Equal(["deps", "v2", "other", "deps", "build", "package"], edited.LogsOf("report"));

        _cold.WriteSource("input.txt", "v2\n");
        var cold = await _cold.RunAsync(Shared());
        Assert.True(cold.ExitCode == 0, cold.ToString());
        Assert.Equal(cold.LogsOf("report"), edited.LogsOf("report"));
    }

    [Fact]
    public async Task Image_goes_to_the_same_repository_and_leaves_no_name_behind_on_either_engine()
    {
        var run = await _a.RunAsync(Shared());
        Assert.True(run.ExitCode == 0, run.ToString());

        using var registry = new RegistryClient(RemoteCacheSetting.Parse(_registry.Remote("team/docker-cache")), new RegistryCredentials(_ => null));
        var tags = await registry.ListTagsAsync(TestContext.Current.CancellationToken);
        Assert.Equal(5, tags.Count(t => t.EndsWith("-image", StringComparison.Ordinal)));
        Assert.Equal(5, tags.Count(t => !t.EndsWith("-image", StringComparison.Ordinal)));

        var fetched = await _b.RunAsync(Shared());
        Assert.True(fetched.ExitCode == 0, fetched.ToString());

        foreach (var client in new[] { await DockerTestEngine.ConnectAsync(), await _engineB.ClientAsync() })
        {
            using (client)
            {
                var names = (await client.ListImagesAsync([], TestContext.Current.CancellationToken)).SelectMany(i => i.RepoTags ?? []);
                Assert.DoesNotContain(names, n => n.StartsWith(_registry.Host, StringComparison.Ordinal));
            }
        }
    }

    // The engine's own event log: every container created on machine B in the window, whoever made it.
    private async Task<string[]> ContainersCreatedOnBAsync(DateTimeOffset since, DateTimeOffset until)
    {
        var (exit, output) = await Exec.RunAsync(
            "docker",
            [
                "-H", _engineB.DockerHost, "events",
                "--since", since.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--until", until.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--filter", "type=container", "--filter", "event=create", "--format", "{{.ID}}",
            ],
            Environment.CurrentDirectory,
            TestContext.Current.CancellationToken);
        Assert.True(exit == 0, output);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    private static PipelineDefinition Project(PipelineDefinition pipeline) => new()
    {
        Slug = pipeline.Slug,
        Runner = pipeline.Runner,
        DefaultImage = pipeline.DefaultImage,
        Project = "remote-docker-test",
        Steps = pipeline.Steps,
    };
}
