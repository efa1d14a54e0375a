using Harmont.Aot.Cache;
using Harmont.Aot.Cache.Remote;
using Harmont.Aot.Events;
using Harmont.Aot.Model;
using TUnit.Assertions.Enums;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests;

/// <summary>
/// Faults of the shared cache are misses and one warning line per run, never a failed step: a registry that is down,
/// stops mid-run, stops answering, changed its password, or serves a blob corrupted on its disk.
/// </summary>
[NotInParallel(nameof(RemoteCacheFaultTests))]
public sealed partial class RemoteCacheFaultTests : IAsyncDisposable
{
    private const string User = "ci";
    private readonly RunHarness _a = new();
    private readonly RunHarness _b = new();
    // Each test starts its own registry; a list, so the test adds to it rather than assigning a field.
    private readonly List<RegistryServer> _registries = [];

    [Before(Test)]
    public Task InitializeAsync()
    {
        foreach (var machine in new[] { _a, _b })
        {
            machine.WriteSource("input.txt", "v1\n");
        }

        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        _a.Dispose();
        _b.Dispose();
        foreach (var registry in _registries)
        {
            await registry.DisposeAsync();
        }
    }

    private async Task<RegistryServer> StartRegistryAsync(string? user = null, string? password = null)
    {
        var registry = await RegistryServer.StartAsync(user, password);
        _registries.Add(registry);
        return registry;
    }

    // Three cached steps and one that may stop the registry between them.
    private static PipelineDefinition Chain(string middle = "true") => Shared(Pipeline(
        "remote-faults",
        Runner.Host,
        Cached("one", "echo one > one.out", null, Forever()),
        Cached("two", "cat one.out input.txt > two.out", "one", OnChange("input.txt")),
        Step("middle", middle, "two"),
        Cached("three", "cat two.out > three.out && echo three", "two", Forever()),
        Cached("four", "cat three.out && echo four", "three", Forever())));

    // One project identity on both machines, as one origin URL would give.
    private static PipelineDefinition Shared(PipelineDefinition pipeline) => new()
    {
        Slug = pipeline.Slug,
        Runner = pipeline.Runner,
        Project = "remote-cache-faults",
        Steps = pipeline.Steps,
    };

    [Test]
    public async Task Registry_that_is_down_is_one_warning_and_every_step_runs()
    {
        var registry = await StartRegistryAsync();
        await registry.StopAsync();
        Use(_a, registry.Remote("team/faults"));

        var run = await _a.RunAsync(Chain());

        await AssertPassedWithOneWarning(run);
        await Assert.That(run.Executed.Count).IsEqualTo(5);
    }

    [Test]
    public async Task Registry_stopped_mid_run_is_one_warning_and_the_run_passes()
    {
        var registry = await StartRegistryAsync();
        Use(_a, registry.Remote("team/faults"));

        var run = await _a.RunAsync(Chain($"kill -9 {registry.Pid}"));

        await AssertPassedWithOneWarning(run);
        await Assert.That(run.StatusOf("four") == StepStatus.Passed).IsTrue().Because(run.ToString());
    }

    [Test]
    public async Task Registry_that_stops_answering_times_out_into_one_warning()
    {
        var registry = await StartRegistryAsync();
        Use(_a, registry.Remote("team/faults", "?timeout=1s"));
        registry.Freeze(true);
        try
        {
            var run = await _a.RunAsync(Chain());

            await AssertPassedWithOneWarning(run);
            await Assert.That(run.Error).Contains("did not answer", StringComparison.Ordinal);
        }
        finally
        {
            registry.Freeze(false);
        }
    }

    [Test]
    public async Task Changed_password_is_a_miss_and_one_warning()
    {
        var registry = await StartRegistryAsync(User, "first-password");
        Use(_a, registry.Remote("team/faults"), "first-password");
        var pushed = await _a.RunAsync(Chain());
        await Assert.That(pushed.Error).Contains("4 pushed", StringComparison.Ordinal);

        await registry.StopAsync();
        await registry.ConfigureAsync(User, "second-password");
        await registry.StartAsync();
        Use(_b, registry.Remote("team/faults"), "first-password");
        var run = await _b.RunAsync(Chain());

        await AssertPassedWithOneWarning(run);
        await Assert.That(run.Executed.Count).IsEqualTo(5);
        await Assert.That(run.Error).Contains("401", StringComparison.Ordinal);
        await Assert.That(run.Error).DoesNotContain("first-password", StringComparison.Ordinal);
    }

    [Test]
    public async Task Credential_forbidden_to_push_or_to_pull_is_a_miss_and_one_warning()
    {
        using var tokens = new TokenServer(User, "token-password") { ForbiddenAction = "push" };
        var registry = await RegistryServer.StartAsync(tokens);
        _registries.Add(registry);
        Use(_a, registry.Remote("team/faults"), "token-password");

        // A read-only credential: every push is refused with 403, and nothing reaches the registry.
        var readOnly = await _a.RunAsync(Chain());
        await AssertPassedWithOneWarning(readOnly);
        await Assert.That(readOnly.Error).Contains("HTTP 403", StringComparison.Ordinal);
        await Assert.That(registry.BlobFiles()).IsEmpty();

        tokens.ForbiddenAction = null;
        await Assert.That((await _a.RunAsync([], ["cache", "clean"])).ExitCode).IsEqualTo(0);
        var pushed = await _a.RunAsync(Chain());
        await Assert.That(pushed.Error).Contains("4 pushed", StringComparison.Ordinal);

        // The registry holds every entry now, but this credential may not read them.
        tokens.ForbiddenAction = "pull";
        Use(_b, registry.Remote("team/faults", "?mode=read"), "token-password");
        var denied = await _b.RunAsync(Chain());
        await AssertPassedWithOneWarning(denied);
        await Assert.That(denied.Error).Contains("HTTP 403", StringComparison.Ordinal);
        await Assert.That(denied.Executed.Count).IsEqualTo(5);
        await Assert.That(denied.Error).DoesNotContain("token-password", StringComparison.Ordinal);
    }

    [Test]
    public async Task Blob_corrupted_on_the_registry_disk_is_never_published_and_the_step_runs(CancellationToken cancellationToken)
    {
        var registry = await StartRegistryAsync();
        Use(_a, registry.Remote("team/faults"));
        var pushed = await _a.RunAsync(Chain());
        await Assert.That(pushed.Error).Contains("4 pushed", StringComparison.Ordinal);

        // Every workspace layer gets one byte flipped, its length kept: only the digest can tell.
        using var client = new RegistryClient(RemoteCacheSetting.Parse(registry.Remote("team/faults")), new RegistryCredentials(_ => null));
        var layers = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tag in await client.ListTagsAsync(cancellationToken))
        {
            var manifest = await client.GetManifestAsync(tag, cancellationToken);
            layers.UnionWith(manifest!.Value.Manifest.Layers!.Select(l => l.Digest));
        }

        foreach (var file in layers.Select(registry.BlobFile))
        {
            var bytes = await File.ReadAllBytesAsync(file, cancellationToken);
            bytes[bytes.Length / 2] ^= 0x5a;
            await File.WriteAllBytesAsync(file, bytes, cancellationToken);
        }

        Use(_b, registry.Remote("team/faults", "?mode=read"));
        var run = await _b.RunAsync(Chain());

        await AssertPassedWithOneWarning(run);
        await Assert.That(run.Error).Contains("corrupt", StringComparison.Ordinal);
        await Assert.That(run.Executed.Count).IsEqualTo(5);
        foreach (var l in new CacheStore(_b.Cache, TimeProvider.System).List())
        {
            await Assert.That(l.Entry.Created > DateTimeOffset.UtcNow.AddMinutes(-5)).IsTrue();
        }
    }

    [Test]
    public async Task Entry_whose_layer_holds_another_entry_publishes_nothing(CancellationToken cancellationToken)
    {
        var registry = await StartRegistryAsync();
        Use(_a, registry.Remote("team/faults"));
        var pushed = await _a.RunAsync(Chain());
        await Assert.That(pushed.Error).Contains("4 pushed", StringComparison.Ordinal);

        // Step 'one''s manifest gets the layer (intact, digest and all) of step 'two''s entry.
        await ForgeOnesManifestThenReadAsync(registry, "alone was expected", async (client, original) =>
        {
            var two = new CacheStore(_a.Cache, TimeProvider.System).List().Single(l => l.Entry.Step == "two").Entry.Key;
            var donor = (await client.GetManifestAsync(two, cancellationToken))!.Value.Manifest;
            return original with { Layers = [donor.Layers![(donor.Layers.Count / 2) - 1], original.Layers![^1]] };
        }, cancellationToken);
    }

    [Test]
    public async Task Source_manifest_blob_that_does_not_unpack_publishes_nothing(CancellationToken cancellationToken)
    {
        var registry = await StartRegistryAsync();
        Use(_a, registry.Remote("team/faults"));
        var pushed = await _a.RunAsync(Chain());
        await Assert.That(pushed.Error).Contains("4 pushed", StringComparison.Ordinal);

        // Step 'one''s manifest names, as its source manifest, a blob that is intact by digest but no zstd stream.
        await ForgeOnesManifestThenReadAsync(registry, "does not unpack", async (client, original) =>
        {
            var garbage = System.Text.Encoding.UTF8.GetBytes("not a source manifest, not zstd either");
            await client.PushBlobAsync(OciDigest.Of(garbage), garbage.Length, () => new MemoryStream(garbage), null, cancellationToken);
            return original with
            {
                Layers = [original.Layers![0], new OciDescriptor { MediaType = RemoteCache.SourcesMediaType, Digest = OciDigest.Of(garbage), Size = garbage.Length }],
            };
        }, cancellationToken);
    }

    // Replaces step 'one''s manifest on the registry with what forge makes of it; then machine B reads: 'one' runs there,
    // with one warning saying why, and the entries the registry holds intact are still hits.
    private async Task ForgeOnesManifestThenReadAsync(
        RegistryServer registry, string warning, Func<RegistryClient, OciManifest, Task<OciManifest>> forge, CancellationToken cancellationToken)
    {
        using var client = new RegistryClient(RemoteCacheSetting.Parse(registry.Remote("team/faults")), new RegistryCredentials(_ => null));
        var one = new CacheStore(_a.Cache, TimeProvider.System).List().Single(l => l.Entry.Step == "one").Entry.Key;
        var forged = await forge(client, (await client.GetManifestAsync(one, cancellationToken))!.Value.Manifest);
        await client.PutManifestAsync(
            one, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(forged, RegistryJsonContext.Default.OciManifest), OciManifest.MediaTypeName, cancellationToken);

        Use(_b, registry.Remote("team/faults", "?mode=read"));
        var run = await _b.RunAsync(Chain());

        await AssertPassedWithOneWarning(run);
        await Assert.That(run.Error).Contains(warning, StringComparison.Ordinal);
        await Assert.That(run.Executed.Order(StringComparer.Ordinal))
            .IsEquivalentTo((IEnumerable<string>)["middle", "one"], CollectionOrdering.Matching);
        await Assert.That(run.Hit("two") && run.Hit("four")).IsTrue().Because(run.ToString());
    }

    private static void Use(RunHarness machine, string remote, string? password = null)
    {
        machine.Env["HARMONT_CACHE_REMOTE"] = remote;
        if (password is not null)
        {
            machine.Env["HARMONT_CACHE_REMOTE_USER"] = User;
            machine.Env["HARMONT_CACHE_REMOTE_PASSWORD"] = password;
        }
    }

    private static async Task AssertPassedWithOneWarning(RunOutcome run)
    {
        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        var warnings = run.Error.Split('\n').Where(l => l.Contains("warning: remote cache", StringComparison.Ordinal)).ToList();
        await Assert.That(warnings.Count == 1).IsTrue().Because(run.ToString());
    }
}
