using Harmont.Aot.Cache.Remote;
using Harmont.Aot.Model;
using TUnit.Assertions.Enums;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests;

/// <summary>
/// Two machines sharing one registry: machine A is this machine's engine, machine B a second dockerd with an empty
/// cache dir and none of A's images. B running A's commit starts from hits and starts no container; after an edit on B
/// exactly the affected steps run, from the remote parents' system state and workspace, and equal a cold run.
/// </summary>
[Property("Requires", "docker")]
[Property("Requires", "root")]
[NotInParallel(nameof(RemoteDockerCacheTests))]
public sealed class RemoteDockerCacheTests : IAsyncDisposable
{
    // Its own repository: the suite's registry (tests/run.sh) holds every test's entries.
    private readonly string _repository = $"team/docker-cache-{Guid.NewGuid():N}";

    private readonly RunHarness _a = new();
    private readonly RunHarness _b = new();
    private readonly RunHarness _cold = new();
    private RegistryServer _registry = null!;
    private SecondEngine _engineB = null!;

    [Before(Test)]
    public async Task InitializeAsync()
    {
        await BusyboxImage.EnsureAsync();
        _registry = await RegistryServer.SharedAsync();
        _engineB = await SecondEngine.StartAsync();
        _b.Env["DOCKER_HOST"] = _engineB.DockerHost;
        foreach (var machine in new[] { _a, _b, _cold })
        {
            machine.WriteSource("input.txt", "v1\n");
            machine.WriteSource("other.txt", "other\n");
        }

        _a.Env["HARMONT_CACHE_REMOTE"] = _registry.Remote(_repository);
        _b.Env["HARMONT_CACHE_REMOTE"] = _registry.Remote(_repository);
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

    [Test]
    public async Task Machine_B_starts_from_machine_As_hits_runs_no_container_and_after_an_edit_runs_only_what_changed()
    {
        var first = await _a.RunAsync(Shared());
        await Assert.That(first.ExitCode == 0).IsTrue().Because(first.ToString());
        await Assert.That(first.Error).Contains("5 pushed", StringComparison.Ordinal);

        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        var same = await _b.RunAsync(Shared());
        var until = DateTimeOffset.UtcNow.AddSeconds(1);

        await Assert.That(same.ExitCode == 0).IsTrue().Because(same.ToString());
        await Assert.That(same.Executed).IsEmpty();
        foreach (var step in new[] { "deps", "build", "lint", "package", "report" })
        {
            await Assert.That(same.Hit(step)).IsTrue().Because(same.ToString());
        }
        await Assert.That(await ContainersCreatedOnBAsync(since, until)).IsEmpty();

        _b.WriteSource("input.txt", "v2\n");
        var edited = await _b.RunAsync(Shared());

        await Assert.That(edited.ExitCode == 0).IsTrue().Because(edited.ToString());
        await Assert.That(edited.Executed).IsEquivalentTo((IEnumerable<string>)["build", "package", "report"], CollectionOrdering.Matching);
        await Assert.That(edited.LogsOf("report"))
            .IsEquivalentTo((IEnumerable<string>)["deps", "v2", "other", "deps", "build", "package"], CollectionOrdering.Matching);

        _cold.WriteSource("input.txt", "v2\n");
        var cold = await _cold.RunAsync(Shared());
        await Assert.That(cold.ExitCode == 0).IsTrue().Because(cold.ToString());
        await Assert.That(edited.LogsOf("report")).IsEquivalentTo(cold.LogsOf("report"), CollectionOrdering.Matching);
    }

    [Test]
    public async Task Image_goes_to_the_same_repository_and_leaves_no_name_behind_on_either_engine(CancellationToken cancellationToken)
    {
        var run = await _a.RunAsync(Shared());
        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());

        using var registry = new RegistryClient(RemoteCacheSetting.Parse(_registry.Remote(_repository)), new RegistryCredentials(_ => null));
        var tags = await registry.ListTagsAsync(cancellationToken);
        await Assert.That(tags.Count(t => t.EndsWith("-image", StringComparison.Ordinal))).IsEqualTo(5);
        await Assert.That(tags.Count(t => !t.EndsWith("-image", StringComparison.Ordinal))).IsEqualTo(5);

        var fetched = await _b.RunAsync(Shared());
        await Assert.That(fetched.ExitCode == 0).IsTrue().Because(fetched.ToString());

        foreach (var client in new[] { await DockerTestEngine.ConnectAsync(), await _engineB.ClientAsync() })
        {
            using (client)
            {
                var names = (await client.ListImagesAsync([], cancellationToken)).SelectMany(i => i.RepoTags ?? []);
                await Assert.That(names).DoesNotContain(n => n.StartsWith(_registry.Host, StringComparison.Ordinal));
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
            TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
        await Assert.That(exit == 0).IsTrue().Because(output);
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
