using Harmont.Aot.Runners.Docker;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

// Every object here also carries a per-test scope label, and the collector is told to keep to it, so
// other tests and other runs sharing this engine are never collected. The owner-label rules are what is tested.
[Property("Requires", "docker")]
[NotInParallel(nameof(DockerGarbageTests))]
public sealed class DockerGarbageTests : IAsyncDisposable
{
    private const string ScopeKey = "dev.harmont.aot.test.gc";

    private readonly string _scopeValue = Guid.NewGuid().ToString("N");
    private DockerEngine _client = null!;

    private static CancellationToken Ct => TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None;

    private string Scope => $"{ScopeKey}={_scopeValue}";

    [Before(Test)]
    public async Task InitializeAsync()
    {
        await BusyboxImage.EnsureAsync();
        _client = await DockerTestEngine.ConnectAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var container in await _client.ListContainersAsync(Scope, CancellationToken.None))
        {
            await _client.RemoveContainerAsync(container.Id, CancellationToken.None);
        }

        foreach (var image in await _client.ListImagesAsync(Scope, CancellationToken.None))
        {
            await _client.RemoveImageAsync(image.Id, force: true, CancellationToken.None);
        }

        _client.Dispose();
    }

    [Test]
    public async Task Stopped_labelled_containers_go_once_old_enough_and_nothing_else_does(CancellationToken cancellationToken)
    {
        var unlabelled = await ExitedContainerAsync(owned: false);
        var neverStartedUnlabelled = await CreatedContainerAsync(owned: false);
        var exited = await ExitedContainerAsync(owned: true);
        var neverStarted = await CreatedContainerAsync(owned: true);
        var running = await RunningContainerAsync();

        var fresh = await DockerGarbage.CollectAsync(_client, DateTimeOffset.UtcNow, Policy(TimeSpan.FromHours(1), TimeSpan.FromDays(1)), cancellationToken);

        await Assert.That(fresh.RemovedContainers).IsEmpty();
        await Assert.That(fresh.Problems).IsEmpty();
        await Assert.That((await _client.ListContainersAsync(Scope, cancellationToken)).Count).IsEqualTo(5);

        var old = await DockerGarbage.CollectAsync(_client, DateTimeOffset.UtcNow, Policy(TimeSpan.Zero, TimeSpan.FromDays(1)), cancellationToken);

        await Assert.That(old.RemovedContainers.Order(StringComparer.Ordinal))
            .IsEquivalentTo(new[] { exited, neverStarted }.Order(StringComparer.Ordinal), CollectionOrdering.Matching);
        await Assert.That(old.Problems).IsEmpty();
        await Assert.That((await _client.ListContainersAsync(Scope, cancellationToken)).Select(c => c.Id).Order(StringComparer.Ordinal))
            .IsEquivalentTo(new[] { neverStartedUnlabelled, running, unlabelled }.Order(StringComparer.Ordinal), CollectionOrdering.Matching);
        await Assert.That((await _client.InspectContainerAsync(running, cancellationToken))!.State!.Status).IsEqualTo("running");
    }

    [Test]
    public async Task Age_counts_from_when_a_container_stopped_not_from_when_it_was_created(CancellationToken cancellationToken)
    {
        // It ran for two seconds: an hour after its creation it has been stopped for less than an hour.
        var exited = await ExitedContainerAsync(owned: true, "sleep 2");
        var stopped = DockerGarbage.FinishedAt((await _client.InspectContainerAsync(exited, cancellationToken))!.State)!.Value;
        var policy = Policy(TimeSpan.FromHours(1), TimeSpan.FromDays(1));

        var early = await DockerGarbage.CollectAsync(_client, stopped + TimeSpan.FromHours(1) - TimeSpan.FromSeconds(1), policy, cancellationToken);
        var late = await DockerGarbage.CollectAsync(_client, stopped + TimeSpan.FromHours(1), policy, cancellationToken);

        await Assert.That(early.RemovedContainers).IsEmpty();
        await Assert.That(late.RemovedContainers).IsEquivalentTo((IEnumerable<string>)[exited], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Ephemeral_snapshots_older_than_a_day_go_and_kept_or_foreign_images_stay(CancellationToken cancellationToken)
    {
        var ephemeral = await ImageAsync("ephemeral", owned: true, ephemeral: true);
        var kept = await ImageAsync("kept", owned: true, ephemeral: false);
        var foreign = await ImageAsync("foreign", owned: false, ephemeral: true);
        var policy = Policy(TimeSpan.FromHours(1), TimeSpan.FromDays(1));

        var today = await DockerGarbage.CollectAsync(_client, DateTimeOffset.UtcNow, policy, cancellationToken);
        var tomorrow = await DockerGarbage.CollectAsync(_client, DateTimeOffset.UtcNow + TimeSpan.FromHours(25), policy, cancellationToken);

        await Assert.That(today.RemovedImages).IsEmpty();
        await Assert.That(tomorrow.RemovedImages).IsEquivalentTo((IEnumerable<string>)[ephemeral], CollectionOrdering.Matching);
        await Assert.That(tomorrow.Problems).IsEmpty();
        await Assert.That(await _client.ImageExistsAsync(ephemeral, cancellationToken)).IsFalse();
        await Assert.That(await _client.ImageExistsAsync(kept, cancellationToken)).IsTrue();
        await Assert.That(await _client.ImageExistsAsync(foreign, cancellationToken)).IsTrue();
        await Assert.That(await _client.ImageExistsAsync(BusyboxImage.Image, cancellationToken)).IsTrue();
    }

    [Test]
    public async Task A_cached_steps_image_no_entry_claimed_goes_once_old_and_a_claimed_one_stays(CancellationToken cancellationToken)
    {
        // A cached step's image is tagged only when its entry is published: untagged, its run lost or died.
        var unclaimed = await ImageAsync(null, owned: true, ephemeral: false);
        var claimed = await ImageAsync("claimed", owned: true, ephemeral: false);
        var foreign = await ImageAsync(null, owned: false, ephemeral: false);
        var policy = Policy(TimeSpan.FromHours(1), TimeSpan.FromDays(1));

        var today = await DockerGarbage.CollectAsync(_client, DateTimeOffset.UtcNow, policy, cancellationToken);
        var tomorrow = await DockerGarbage.CollectAsync(_client, DateTimeOffset.UtcNow + TimeSpan.FromHours(25), policy, cancellationToken);

        await Assert.That(today.RemovedImages).IsEmpty();
        await Assert.That(tomorrow.RemovedImages).IsEquivalentTo((IEnumerable<string>)[unclaimed], CollectionOrdering.Matching);
        await Assert.That(await _client.ImageExistsAsync(unclaimed, cancellationToken)).IsFalse();
        await Assert.That(await _client.ImageExistsAsync(claimed, cancellationToken)).IsTrue();
        await Assert.That(await _client.ImageExistsAsync(foreign, cancellationToken)).IsTrue();
    }

    [Test]
    public async Task Ephemeral_snapshot_a_container_still_uses_is_left_and_reported(CancellationToken cancellationToken)
    {
        var ephemeral = await ImageAsync("in-use", owned: true, ephemeral: true);
        var user = await RunningContainerAsync(ephemeral);

        var report = await DockerGarbage.CollectAsync(_client, DateTimeOffset.UtcNow + TimeSpan.FromDays(2), Policy(TimeSpan.Zero, TimeSpan.Zero), cancellationToken);

        await Assert.That(report.RemovedImages).IsEmpty();
        await Assert.That(report.Problems).Contains(p => p.Contains(ephemeral, StringComparison.Ordinal));
        await Assert.That(await _client.ImageExistsAsync(ephemeral, cancellationToken)).IsTrue();
        await Assert.That((await _client.InspectContainerAsync(user, cancellationToken))!.State!.Status).IsEqualTo("running");
    }

    private GcPolicy Policy(TimeSpan containers, TimeSpan images) => new(containers, images, Scope);

    private Dictionary<string, string> Labels(bool owned, bool ephemeral = false)
    {
        var labels = new Dictionary<string, string> { [ScopeKey] = _scopeValue };
        if (owned)
        {
            labels[DockerNames.OwnerLabel] = "1";
        }

        if (ephemeral)
        {
            labels[DockerNames.EphemeralLabel] = "1";
        }

        return labels;
    }

    private async Task<string> CreatedContainerAsync(bool owned, string command = "true", string image = BusyboxImage.Image) =>
        await _client.CreateContainerAsync(image, ["sh", "-c", command], Labels(owned), Ct);

    private async Task<string> ExitedContainerAsync(bool owned, string command = "true")
    {
        var id = await CreatedContainerAsync(owned, command);
        await _client.StartContainerAsync(id, Ct);
        await _client.WaitContainerAsync(id, Ct);
        return id;
    }

    private async Task<string> RunningContainerAsync(string image = BusyboxImage.Image)
    {
        var id = await CreatedContainerAsync(owned: true, "sleep 120", image);
        await _client.StartContainerAsync(id, Ct);
        return id;
    }

    // Tagged harmont-test/gc:NAME-SCOPE and returned by that name; untagged (name null) and returned by id.
    private async Task<string> ImageAsync(string? name, bool owned, bool ephemeral)
    {
        var source = await CreatedContainerAsync(owned: false);
        try
        {
            var repo = "harmont-test/gc";
            var tag = $"{name}-{_scopeValue}";
            var id = await _client.CommitAsync(source, name is null ? null : repo, name is null ? null : tag, Labels(owned, ephemeral), Ct);
            return name is null ? id : $"{repo}:{tag}";
        }
        finally
        {
            await _client.RemoveContainerAsync(source, CancellationToken.None);
        }
    }
}
