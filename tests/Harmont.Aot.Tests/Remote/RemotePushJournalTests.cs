using Harmont.Aot.Cache.Remote;
using Harmont.Aot.Model;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests;

/// <summary>
/// A push that does not finish is owed, never lost: a registry that was down, a run that did not wait for its pushes
/// (the local default) or a registry that trickles leaves the entries journalled, and the next run or 'cache push'
/// sends them, so other machines hit. Retention collects the image tags of entries whose push never completed.
/// </summary>
[NotInParallel(nameof(RemotePushJournalTests))]
public sealed class RemotePushJournalTests : IAsyncDisposable
{
    private readonly RunHarness _a = new();
    private readonly RunHarness _b = new();
    private readonly List<IAsyncDisposable> _servers = [];

    [Before(Test)]
    public Task InitializeAsync()
    {
        _a.WriteSource("input.txt", "v1\n");
        _b.WriteSource("input.txt", "v1\n");
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        _a.Dispose();
        _b.Dispose();
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
    }

    private async Task<RegistryServer> StartRegistryAsync()
    {
        var registry = await RegistryServer.StartAsync();
        _servers.Add(registry);
        return registry;
    }

    private static PipelineDefinition Chain() => new()
    {
        Slug = "journal",
        Runner = Runner.Host,
        Project = "remote-push-journal",
        Steps =
        [
            Cached("one", "echo one > one.out", null, Forever()),
            Cached("two", "cat one.out input.txt > two.out", "one", OnChange("input.txt")),
            Cached("three", "cat two.out > three.out && echo three", "two", Forever()),
        ],
    };

    [Test]
    public async Task Entries_a_down_registry_missed_are_pushed_by_the_next_run_that_hits_them_locally()
    {
        var registry = await StartRegistryAsync();
        await registry.StopAsync();
        _a.Env["HARMONT_CACHE_REMOTE"] = registry.Remote("team/journal");
        var missed = await _a.RunAsync(Chain());
        await Assert.That(missed.ExitCode == 0).IsTrue().Because(missed.ToString());
        await Assert.That(missed.Error).Contains("3 still to push", StringComparison.Ordinal);

        await registry.StartAsync();
        var hits = await _a.RunAsync(Chain());
        await Assert.That(hits.Executed).IsEmpty().Because(hits.ToString());
        await Assert.That(hits.Error).Contains("3 pushed", StringComparison.Ordinal);
        await Assert.That(hits.Error).DoesNotContain("still to push", StringComparison.Ordinal);

        _b.Env["HARMONT_CACHE_REMOTE"] = registry.Remote("team/journal", "?mode=read");
        var other = await _b.RunAsync(Chain());
        await Assert.That(other.Executed).IsEmpty().Because(other.ToString());
    }

    [Test]
    public async Task A_run_that_does_not_wait_leaves_its_pushes_owed_and_cache_push_sends_them()
    {
        var registry = await StartRegistryAsync();
        var remote = registry.Remote("team/journal", "?mode=write&timeout=300s");
        _a.Env["HARMONT_CACHE_REMOTE"] = remote;
        _a.Env["CI"] = "";

        // Frozen, the registry would hold a waiting run for the whole timeout; this one returns without waiting.
        registry.Freeze(true);
        RunOutcome local;
        try
        {
            local = await _a.RunAsync(Chain());
        }
        finally
        {
            registry.Freeze(false);
        }

        await Assert.That(local.ExitCode == 0).IsTrue().Because(local.ToString());
        await Assert.That(local.Error).Contains("3 still to push; the next run, or 'cache push', finishes them", StringComparison.Ordinal);

        var push = await _a.RunAsync([], ["cache", "push"]);
        await Assert.That(push.ExitCode).IsEqualTo(0).Because(push.ToString());
        await Assert.That(push.Output).Contains("3 pushed", StringComparison.Ordinal);
        var again = await _a.RunAsync([], ["cache", "push"]);
        await Assert.That(again.Output).Contains("nothing to push", StringComparison.Ordinal);

        _b.Env["HARMONT_CACHE_REMOTE"] = registry.Remote("team/journal", "?mode=read");
        var other = await _b.RunAsync(Chain());
        await Assert.That(other.Executed).IsEmpty().Because(other.ToString());
    }

    [Test]
    [Timeout(120_000)]
    public async Task Registry_that_trickles_is_a_miss_once_the_whole_request_deadline_passes(CancellationToken cancellationToken)
    {
        var registry = await StartRegistryAsync();
        _a.Env["HARMONT_CACHE_REMOTE"] = registry.Remote("team/journal");
        var pushed = await _a.RunAsync(Chain());
        await Assert.That(pushed.Error).Contains("3 pushed", StringComparison.Ordinal);

        // One byte every half second: every read gets its byte long before the 2 s timeout, forever.
        await using var proxy = new RegistryProxy(registry.Host) { Trickle = true };
        _b.Env["HARMONT_CACHE_REMOTE"] = $"oci://{proxy.Host}/team/journal?mode=read&timeout=2s";
        var run = await _b.RunAsync(Chain());

        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(run.Executed.Count).IsEqualTo(3);
        await Assert.That(run.Error.Split('\n').Count(l => l.Contains("warning: remote cache", StringComparison.Ordinal))).IsEqualTo(1);
        await Assert.That(run.Error).Contains("slower than 64 KiB/s", StringComparison.Ordinal);
        await Assert.That(proxy.Trickled).IsGreaterThan(0);
    }

    [Test]
    public async Task Prune_deletes_image_tags_whose_entry_never_arrived_and_keeps_those_of_kept_entries(CancellationToken cancellationToken)
    {
        var registry = await StartRegistryAsync();
        _a.Env["HARMONT_CACHE_REMOTE"] = registry.Remote("team/journal");
        var pushed = await _a.RunAsync(Chain());
        await Assert.That(pushed.Error).Contains("3 pushed", StringComparison.Ordinal);

        // What a push killed between its image and its entry leaves: an image tag, and no entry tag for its key.
        using var client = new RegistryClient(RemoteCacheSetting.Parse(registry.Remote("team/journal")), new RegistryCredentials(_ => null));
        var orphanKey = new string('a', 64);
        var config = "{}"u8.ToArray();
        await client.PushBlobAsync(OciDigest.Of(config), config.Length, () => new MemoryStream(config), null, cancellationToken);
        var image = new OciManifest { Config = new OciDescriptor { MediaType = "application/vnd.oci.image.config.v1+json", Digest = OciDigest.Of(config), Size = config.Length }, Layers = [] };
        await client.PutManifestAsync(
            orphanKey + RemotePrune.ImageTagSuffix, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(image, RegistryJsonContext.Default.OciManifest), OciManifest.MediaTypeName, cancellationToken);

        var result = await RemotePrune.PruneAsync(client, 1, cancellationToken);

        await Assert.That(result).IsEqualTo(new RemotePruneResult(Kept: 3, Deleted: 0, Refused: 0, Unreadable: 0, Orphans: 1));
        var tags = await client.ListTagsAsync(cancellationToken);
        await Assert.That(tags).DoesNotContain(orphanKey + RemotePrune.ImageTagSuffix);
        await Assert.That(tags.Count).IsEqualTo(3);
    }
}
