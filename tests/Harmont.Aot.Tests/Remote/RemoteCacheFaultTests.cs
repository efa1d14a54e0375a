using Harmont.Aot.Cache;
using Harmont.Aot.Cache.Remote;
using Harmont.Aot.Events;
using Harmont.Aot.Model;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests;

/// <summary>
/// Faults of the shared cache are misses and one warning line per run, never a failed step: a registry that is down,
/// stops mid-run, stops answering, changed its password, or serves a blob corrupted on its disk.
/// </summary>
public sealed class RemoteCacheFaultTests : IAsyncLifetime
{
    private const string User = "ci";
    private readonly RunHarness _a = new();
    private readonly RunHarness _b = new();
    private RegistryServer? _registry;

    private RegistryServer Registry => _registry!;

    public ValueTask InitializeAsync()
    {
        foreach (var machine in new[] { _a, _b })
        {
            machine.WriteSource("input.txt", "v1\n");
        }

        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        _a.Dispose();
        _b.Dispose();
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }
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

    [Fact]
    public async Task Registry_that_is_down_is_one_warning_and_every_step_runs()
    {
        _registry = await RegistryServer.StartAsync();
        await Registry.StopAsync();
        Use(_a, Registry.Remote("team/faults"));

        var run = await _a.RunAsync(Chain());

        AssertPassedWithOneWarning(run);
        Assert.Equal(5, run.Executed.Count);
    }

    [Fact]
    public async Task Registry_stopped_mid_run_is_one_warning_and_the_run_passes()
    {
        _registry = await RegistryServer.StartAsync();
        Use(_a, Registry.Remote("team/faults"));

        var run = await _a.RunAsync(Chain($"kill -9 {Registry.Pid}"));

        AssertPassedWithOneWarning(run);
        Assert.True(run.StatusOf("four") == StepStatus.Passed, run.ToString());
    }

    [Fact]
    public async Task Registry_that_stops_answering_times_out_into_one_warning()
    {
        _registry = await RegistryServer.StartAsync();
        Use(_a, Registry.Remote("team/faults", "?timeout=1s"));
        Registry.Freeze(true);
        try
        {
            var run = await _a.RunAsync(Chain());

            AssertPassedWithOneWarning(run);
            Assert.Contains("did not answer", run.Error, StringComparison.Ordinal);
        }
        finally
        {
            Registry.Freeze(false);
        }
    }

    [Fact]
    public async Task Changed_password_is_a_miss_and_one_warning()
    {
        _registry = await RegistryServer.StartAsync(User, "first-password");
        Use(_a, Registry.Remote("team/faults"), "first-password");
        var pushed = await _a.RunAsync(Chain());
        Assert.Contains("4 pushed", pushed.Error, StringComparison.Ordinal);

        await Registry.StopAsync();
        await Registry.ConfigureAsync(User, "second-password");
        await Registry.StartAsync();
        Use(_b, Registry.Remote("team/faults"), "first-password");
        var run = await _b.RunAsync(Chain());

        AssertPassedWithOneWarning(run);
        Assert.Equal(5, run.Executed.Count);
        Assert.Contains("401", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("first-password", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Blob_corrupted_on_the_registry_disk_is_never_published_and_the_step_runs()
    {
        _registry = await RegistryServer.StartAsync();
        Use(_a, Registry.Remote("team/faults"));
        var pushed = await _a.RunAsync(Chain());
        Assert.Contains("4 pushed", pushed.Error, StringComparison.Ordinal);

        // Every workspace layer gets one byte flipped, its length kept: only the digest can tell.
        using var client = new RegistryClient(RemoteCacheSetting.Parse(Registry.Remote("team/faults")), new RegistryCredentials(_ => null));
        var layers = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tag in await client.ListTagsAsync(TestContext.Current.CancellationToken))
        {
            var manifest = await client.GetManifestAsync(tag, TestContext.Current.CancellationToken);
            layers.UnionWith(manifest!.Value.Manifest.Layers!.Select(l => l.Digest));
        }

        foreach (var file in layers.Select(Registry.BlobFile))
        {
            var bytes = await File.ReadAllBytesAsync(file, TestContext.Current.CancellationToken);
            bytes[bytes.Length / 2] ^= 0x5a;
            await File.WriteAllBytesAsync(file, bytes, TestContext.Current.CancellationToken);
        }

        Use(_b, Registry.Remote("team/faults", "?mode=read"));
        var run = await _b.RunAsync(Chain());

        AssertPassedWithOneWarning(run);
        Assert.Contains("corrupt", run.Error, StringComparison.Ordinal);
        Assert.Equal(5, run.Executed.Count);
        Assert.All(new CacheStore(_b.Cache, TimeProvider.System).List(), l => Assert.True(l.Entry.Created > DateTimeOffset.UtcNow.AddMinutes(-5)));
    }

    [Fact]
    public async Task Entry_whose_layer_holds_another_entry_publishes_nothing()
    {
        _registry = await RegistryServer.StartAsync();
        Use(_a, Registry.Remote("team/faults"));
        var pushed = await _a.RunAsync(Chain());
        Assert.Contains("4 pushed", pushed.Error, StringComparison.Ordinal);

        // Step 'one''s manifest gets the layer (intact, digest and all) of step 'two''s entry.
        using var client = new RegistryClient(RemoteCacheSetting.Parse(Registry.Remote("team/faults")), new RegistryCredentials(_ => null));
        var one = new CacheStore(_a.Cache, TimeProvider.System).List().Single(l => l.Entry.Step == "one").Entry.Key;
        var two = new CacheStore(_a.Cache, TimeProvider.System).List().Single(l => l.Entry.Step == "two").Entry.Key;
        var original = (await client.GetManifestAsync(one, TestContext.Current.CancellationToken))!.Value.Manifest;
        var donor = (await client.GetManifestAsync(two, TestContext.Current.CancellationToken))!.Value.Manifest;
        var forged = original with { Layers = [donor.Layers![^1]] };
        await client.PutManifestAsync(
            one, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(forged, RegistryJsonContext.Default.OciManifest), OciManifest.MediaTypeName, TestContext.Current.CancellationToken);

        Use(_b, Registry.Remote("team/faults", "?mode=read"));
        var run = await _b.RunAsync(Chain());

        AssertPassedWithOneWarning(run);
        Assert.Contains("alone was expected", run.Error, StringComparison.Ordinal);

        // 'one' ran here; the entries the registry holds intact are still hits.
        Assert.Equal(["middle", "one"], run.Executed.Order(StringComparer.Ordinal));
        Assert.True(run.Hit("two") && run.Hit("four"), run.ToString());
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

    private static void AssertPassedWithOneWarning(RunOutcome run)
    {
        Assert.True(run.ExitCode == 0, run.ToString());
        var warnings = run.Error.Split('\n').Where(l => l.Contains("warning: remote cache", StringComparison.Ordinal)).ToList();
        Assert.True(warnings.Count == 1, run.ToString());
    }
}
