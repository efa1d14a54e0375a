using Harmont.Aot.Cleanup;
using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests;

/// <summary>
/// What the reaping of dead runs may touch on a shared engine: a dead run's objects go, a live run's and
/// another cache's stay, whatever their age. Every object carries a per-test scope the reaper keeps to.
/// </summary>
[Trait("Requires", "docker")]
public sealed class DeadRunReapTests : IAsyncLifetime
{
    private readonly string _scope = $"dev.harmont.aot.test.reap={Guid.NewGuid():N}";
    private readonly string _dir = Directory.CreateTempSubdirectory("harmont-reap-").FullName;
    private DockerEngine _client = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string OurCache => OwnerLock.Label(Path.Combine(_dir, "cache"));

    public async ValueTask InitializeAsync()
    {
        await BusyboxImage.EnsureAsync();
        _client = await DockerTestEngine.ConnectAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var container in await _client.ListContainersAsync(_scope, CancellationToken.None))
        {
            await _client.RemoveContainerAsync(container.Id, CancellationToken.None);
        }

        foreach (var image in await _client.ListImagesAsync(_scope, CancellationToken.None))
        {
            await _client.RemoveImageAsync(image.Id, force: true, CancellationToken.None);
        }

        _client.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task A_dead_runs_running_container_goes_and_a_live_runs_and_another_machines_stay()
    {
        var liveLock = Path.Combine(_dir, "live.lock");
        using var live = OwnerLock.Acquire(liveLock);
        var deadLock = Path.Combine(_dir, "dead.lock");
        OwnerLock.Acquire(deadLock).Dispose();

        await RunningAsync(OwnerLock.Label(deadLock));
        var alive = await RunningAsync(OwnerLock.Label(liveLock));
        var foreign = await RunningAsync($"another-machine:{deadLock}");
        await RunningAsync(OwnerLock.Label(Path.Combine(_dir, "never-existed.lock")));

        var report = await DockerGarbage.ReapDeadRunsAsync(_client, OurCache, _ => null, _scope, Ct);

        // Any run starting beside this test may reap the dead ones first: what is left is what counts.
        Assert.DoesNotContain(alive, report.RemovedContainers);
        Assert.DoesNotContain(foreign, report.RemovedContainers);
        Assert.Empty(report.Problems);
        Assert.Equal(new[] { alive, foreign }.Order(StringComparer.Ordinal), (await _client.ListContainersAsync(_scope, Ct)).Select(c => c.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_dead_runs_image_goes_unless_an_entry_records_it_and_then_it_gets_its_cache_tag()
    {
        var deadLock = Path.Combine(_dir, "dead.lock");
        var labels = Labels(OwnerLock.Label(deadLock), OurCache);
        var garbage = await ImportAsync(DockerNames.SnapshotRepository, $"reap-garbage-{Guid.NewGuid():N}", labels);
        var recorded = await ImportAsync(DockerNames.SnapshotRepository, $"reap-recorded-{Guid.NewGuid():N}", labels);
        var otherCache = await ImportAsync(DockerNames.SnapshotRepository, $"reap-other-{Guid.NewGuid():N}", Labels(OwnerLock.Label(deadLock), "elsewhere:/cache"));
        var key = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());

        var report = await DockerGarbage.ReapDeadRunsAsync(_client, OurCache, id => id == recorded ? key : null, _scope, Ct);

        Assert.Empty(report.Problems);
        Assert.Null(await _client.InspectImageAsync(garbage, Ct));
        Assert.Equal(recorded, (await _client.InspectImageAsync(DockerNames.CacheReference(key), Ct))?.Id);
        Assert.Equal([DockerNames.CacheReference(key)], (await _client.ListImagesAsync(_scope, Ct)).Single(i => i.Id == recorded).RepoTags);
        Assert.NotNull(await _client.InspectImageAsync(otherCache, Ct));
    }

    [Fact]
    public async Task Orphan_collection_takes_this_caches_tags_without_entries_and_no_other_caches()
    {
        var orphanKey = $"{Guid.NewGuid():N}{Guid.NewGuid():N}";
        var keptKey = $"{Guid.NewGuid():N}{Guid.NewGuid():N}";
        var otherKey = $"{Guid.NewGuid():N}{Guid.NewGuid():N}";
        await ImportAsync(DockerNames.CacheRepository, orphanKey, Labels("", OurCache));
        await ImportAsync(DockerNames.CacheRepository, keptKey, Labels("", OurCache));
        await ImportAsync(DockerNames.CacheRepository, otherKey, Labels("", "elsewhere:/cache"));

        var removed = await DockerGarbage.CollectOrphanTagsAsync(_client, OurCache, key => key == keptKey, _scope, Ct);

        Assert.Equal([DockerNames.CacheReference(orphanKey)], removed);
        Assert.NotNull(await _client.InspectImageAsync(DockerNames.CacheReference(keptKey), Ct));
        Assert.NotNull(await _client.InspectImageAsync(DockerNames.CacheReference(otherKey), Ct));
    }

    private Dictionary<string, string> Labels(string runLock, string cache) => new()
    {
        [DockerNames.OwnerLabel] = "1",
        [DockerNames.LockLabel] = runLock,
        [DockerNames.CacheLabel] = cache,
        [_scope.Split('=')[0]] = _scope.Split('=')[1],
    };

    private async Task<string> ImportAsync(string repository, string tag, Dictionary<string, string> labels)
    {
        // A nonce of its own: two imports of one tree with one config in one second would be one image.
        using var rootfs = BusyboxImage.BuildRootfs();
        await _client.ImportImageAsync(rootfs, repository, tag, new Dictionary<string, string>(labels) { ["dev.harmont.aot.test.nonce"] = tag }, Ct);
        return (await _client.InspectImageAsync($"{repository}:{tag}", Ct))!.Id;
    }

    private async Task<string> RunningAsync(string runLock)
    {
        var id = await _client.CreateContainerAsync(BusyboxImage.Image, ["sleep", "300"], Labels(runLock, OurCache), Ct, $"harmont-reap-test-{Guid.NewGuid():N}");
        await _client.StartContainerAsync(id, Ct);
        return id;
    }
}
