using Harmont.Aot.Cache;
using Harmont.Aot.Cleanup;
using Harmont.Aot.Model;
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
            .IsEquivalentTo(keys.Select(k => DockerNames.CacheReference(OurCache, k)), CollectionOrdering.Any);
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
        await Assert.That((await _client.InspectImageAsync(DockerNames.CacheReference(OurCache, key), cancellationToken))?.Id).IsEqualTo(recorded);
        await Assert.That((await _client.ListImagesAsync(_scope, cancellationToken)).Single(i => i.Id == recorded).RepoTags)
            .IsEquivalentTo((IEnumerable<string>)[DockerNames.CacheReference(OurCache, key)], CollectionOrdering.Matching);
        await Assert.That(await _client.InspectImageAsync(otherCache, cancellationToken)).IsNotNull();
    }

    [Test]
    public async Task A_dead_runs_image_gets_this_caches_name_and_another_caches_image_for_the_key_keeps_its_own(CancellationToken cancellationToken)
    {
        // Another cache dir on this engine ran the step first and holds its own image for the key.
        using var other = new RunHarness();
        var pipeline = new PipelineDefinition
        {
            Slug = "reap-two-caches",
            Runner = Runner.Docker,
            DefaultImage = BusyboxImage.Image,
            Project = $"reap-two-caches-{Guid.NewGuid():N}",
            Steps = [Define.Cached("tool", "echo other > /etc/mark", null, Define.Forever())],
        };
        try
        {
            var run = await other.RunAsync(pipeline);
            await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
            var theirs = (await Assert.That(new CacheStore(other.Cache, TimeProvider.System).List()).HasSingleItem()).Entry;
            var theirNames = (await _client.InspectImageAsync(theirs.Image!, cancellationToken))!.RepoTags;

            // This cache's run recorded the same key and died before naming its image.
            var ours = await ImportAsync(DockerNames.SnapshotRepository, $"reap-ours-{Guid.NewGuid():N}", Labels(OwnerLock.Label(Path.Combine(_dir, "dead.lock")), OurCache));
            var report = await DockerGarbage.ReapDeadRunsAsync(_client, OurCache, id => id == ours ? [theirs.Key] : [], _scope, cancellationToken);

            await Assert.That(report.Problems).IsEmpty();
            await Assert.That((await _client.InspectImageAsync(theirs.Image!, cancellationToken))?.RepoTags)
                .IsEquivalentTo(theirNames, CollectionOrdering.Any);
            var ourNames = (await _client.InspectImageAsync(ours, cancellationToken))?.RepoTags;
            await Assert.That(ourNames).HasSingleItem();
            await Assert.That(ourNames!.Intersect(theirNames)).IsEmpty();
        }
        finally
        {
            await other.RunAsync([], ["cache", "clean"]);
        }
    }

    [Test]
    public async Task Orphan_collection_takes_this_caches_names_without_entries_and_no_other_caches(CancellationToken cancellationToken)
    {
        const string Elsewhere = "elsewhere:/cache";
        var orphanKey = NewKey();
        var fetchedKey = NewKey();
        var keptKey = NewKey();
        var otherKey = NewKey();
        await ImportAsync(DockerNames.CacheRepository(OurCache), orphanKey, Labels("", OurCache));

        // Fetched from the shared cache: made for another cache, named by this one.
        await ImportAsync(DockerNames.CacheRepository(OurCache), fetchedKey, Labels("", Elsewhere));
        await ImportAsync(DockerNames.CacheRepository(OurCache), keptKey, Labels("", OurCache));

        // Made for this cache, fetched by another, whose entry is its only hold now.
        await ImportAsync(DockerNames.CacheRepository(Elsewhere), otherKey, Labels("", OurCache));

        var removed = await DockerGarbage.CollectOrphanTagsAsync(_client, OurCache, key => key == keptKey, _ => [], _scope, cancellationToken);

        await Assert.That(removed)
            .IsEquivalentTo((IEnumerable<string>)[DockerNames.CacheReference(OurCache, orphanKey), DockerNames.CacheReference(OurCache, fetchedKey)], CollectionOrdering.Any);
        await Assert.That(await _client.InspectImageAsync(DockerNames.CacheReference(OurCache, keptKey), cancellationToken)).IsNotNull();
        await Assert.That(await _client.InspectImageAsync(DockerNames.CacheReference(Elsewhere, otherKey), cancellationToken)).IsNotNull();
    }

    [Test]
    public async Task Orphan_collection_gives_legacy_named_images_of_this_caches_entries_its_names_and_drops_legacy_names_it_made_without_entries(
        CancellationToken cancellationToken)
    {
        // Named the way every cache named its images before each named its own.
        var heldKey = NewKey();
        var goneKey = NewKey();
        var otherKey = NewKey();
        var held = await ImportAsync(DockerNames.LegacyCacheRepository, heldKey, Labels("", OurCache));
        var gone = await ImportAsync(DockerNames.LegacyCacheRepository, goneKey, Labels("", OurCache));
        var other = await ImportAsync(DockerNames.LegacyCacheRepository, otherKey, Labels("", "elsewhere:/cache"));

        var removed = await DockerGarbage.CollectOrphanTagsAsync(
            _client, OurCache, key => key == heldKey, id => id == held ? [heldKey] : [], _scope, cancellationToken);

        await Assert.That(removed).IsEquivalentTo((IEnumerable<string>)[DockerNames.LegacyCacheReference(goneKey)], CollectionOrdering.Matching);
        await Assert.That((await _client.InspectImageAsync(held, cancellationToken))?.RepoTags)
            .IsEquivalentTo((IEnumerable<string>)[DockerNames.LegacyCacheReference(heldKey), DockerNames.CacheReference(OurCache, heldKey)], CollectionOrdering.Any);
        await Assert.That(await _client.InspectImageAsync(gone, cancellationToken)).IsNull();
        await Assert.That((await _client.InspectImageAsync(other, cancellationToken))?.RepoTags)
            .IsEquivalentTo((IEnumerable<string>)[DockerNames.LegacyCacheReference(otherKey)], CollectionOrdering.Matching);
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
