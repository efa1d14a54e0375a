using Harmont.Aot.Cleanup;
using Harmont.Aot.Runners.Docker;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

/// <summary>
/// What the reaping of dead runs may touch on a shared engine: a dead run's objects go, a live run's and
/// another cache's stay, whatever their age. Every object carries a per-test scope the reaper keeps to.
/// </summary>
[Property("Requires", "docker")]
// Alone, beside no other test: any run starting beside it reaps the same dead runs, and a removal already in
// progress would be reported as a problem of this reaper.
[NotInParallel]
public sealed class DeadRunReapTests : IAsyncDisposable
{
    private readonly string _scope = $"dev.harmont.aot.test.reap={Guid.NewGuid():N}";
    private readonly string _dir = Directory.CreateTempSubdirectory("harmont-reap-").FullName;
    private DockerEngine _client = null!;

    private static CancellationToken Ct => TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None;

    private string OurCache => OwnerLock.Label(Path.Combine(_dir, "cache"));

    [Before(Test)]
    public async Task InitializeAsync()
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

    [Test]
    public async Task A_dead_runs_running_container_goes_and_a_live_runs_and_another_machines_stay(CancellationToken cancellationToken)
    {
        var liveLock = Path.Combine(_dir, "live.lock");
        using var live = OwnerLock.Acquire(liveLock);
        var deadLock = Path.Combine(_dir, "dead.lock");
        OwnerLock.Acquire(deadLock).Dispose();

        await RunningAsync(OwnerLock.Label(deadLock));
        var alive = await RunningAsync(OwnerLock.Label(liveLock));
        var foreign = await RunningAsync($"another-machine:{deadLock}");
        await RunningAsync(OwnerLock.Label(Path.Combine(_dir, "never-existed.lock")));

        var report = await DockerGarbage.ReapDeadRunsAsync(_client, OurCache, _ => [], _scope, cancellationToken);

        // Any run starting beside this test may reap the dead ones first: what is left is what counts.
        await Assert.That(report.RemovedContainers).DoesNotContain(alive);
        await Assert.That(report.RemovedContainers).DoesNotContain(foreign);
        await Assert.That(report.Problems).IsEmpty();
        await Assert.That((await _client.ListContainersAsync(_scope, cancellationToken)).Select(c => c.Id).Order(StringComparer.Ordinal))
            .IsEquivalentTo(new[] { alive, foreign }.Order(StringComparer.Ordinal), CollectionOrdering.Matching);
    }

    [Test]
    public async Task A_dead_runs_image_that_several_entries_record_gets_every_entrys_cache_tag(CancellationToken cancellationToken)
    {
        // A step that changed nothing shares its parent's image, so two entries record one image id.
        var labels = Labels(OwnerLock.Label(Path.Combine(_dir, "dead.lock")), OurCache);
        var shared = await ImportAsync(DockerNames.SnapshotRepository, $"reap-shared-{Guid.NewGuid():N}", labels);
        string[] keys = [NewKey(), NewKey()];

        var report = await DockerGarbage.ReapDeadRunsAsync(_client, OurCache, id => id == shared ? keys : [], _scope, cancellationToken);

        await Assert.That(report.Problems).IsEmpty();
        await Assert.That((await _client.ListImagesAsync(_scope, cancellationToken)).Single(i => i.Id == shared).RepoTags)
            .IsEquivalentTo(keys.Select(DockerNames.CacheReference), CollectionOrdering.Any);
    }

    private static string NewKey() => Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());

    [Test]
    public async Task A_dead_runs_image_goes_unless_an_entry_records_it_and_then_it_gets_its_cache_tag(CancellationToken cancellationToken)
    {
        var deadLock = Path.Combine(_dir, "dead.lock");
        var labels = Labels(OwnerLock.Label(deadLock), OurCache);
        var garbage = await ImportAsync(DockerNames.SnapshotRepository, $"reap-garbage-{Guid.NewGuid():N}", labels);
        var recorded = await ImportAsync(DockerNames.SnapshotRepository, $"reap-recorded-{Guid.NewGuid():N}", labels);
        var otherCache = await ImportAsync(DockerNames.SnapshotRepository, $"reap-other-{Guid.NewGuid():N}", Labels(OwnerLock.Label(deadLock), "elsewhere:/cache"));
        var key = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());

        var report = await DockerGarbage.ReapDeadRunsAsync(_client, OurCache, id => id == recorded ? [key] : [], _scope, cancellationToken);

        await Assert.That(report.Problems).IsEmpty();
        await Assert.That(await _client.InspectImageAsync(garbage, cancellationToken)).IsNull();
        await Assert.That((await _client.InspectImageAsync(DockerNames.CacheReference(key), cancellationToken))?.Id).IsEqualTo(recorded);
        await Assert.That((await _client.ListImagesAsync(_scope, cancellationToken)).Single(i => i.Id == recorded).RepoTags)
            .IsEquivalentTo((IEnumerable<string>)[DockerNames.CacheReference(key)], CollectionOrdering.Matching);
        await Assert.That(await _client.InspectImageAsync(otherCache, cancellationToken)).IsNotNull();
    }

    [Test]
    public async Task Orphan_collection_takes_this_caches_tags_without_entries_and_no_other_caches(CancellationToken cancellationToken)
    {
        var orphanKey = $"{Guid.NewGuid():N}{Guid.NewGuid():N}";
        var keptKey = $"{Guid.NewGuid():N}{Guid.NewGuid():N}";
        var otherKey = $"{Guid.NewGuid():N}{Guid.NewGuid():N}";
        await ImportAsync(DockerNames.CacheRepository, orphanKey, Labels("", OurCache));
        await ImportAsync(DockerNames.CacheRepository, keptKey, Labels("", OurCache));
        await ImportAsync(DockerNames.CacheRepository, otherKey, Labels("", "elsewhere:/cache"));

        var removed = await DockerGarbage.CollectOrphanTagsAsync(_client, OurCache, key => key == keptKey, _scope, cancellationToken);

        await Assert.That(removed).IsEquivalentTo((IEnumerable<string>)[DockerNames.CacheReference(orphanKey)], CollectionOrdering.Matching);
        await Assert.That(await _client.InspectImageAsync(DockerNames.CacheReference(keptKey), cancellationToken)).IsNotNull();
        await Assert.That(await _client.InspectImageAsync(DockerNames.CacheReference(otherKey), cancellationToken)).IsNotNull();
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
