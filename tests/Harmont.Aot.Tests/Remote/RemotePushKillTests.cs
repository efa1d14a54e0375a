using Harmont.Aot.Cache.Remote;

namespace Harmont.Aot.Tests;

/// <summary>
/// The real AOT binary, its push caught mid-way by a proxy that holds the registry's requests: killed with SIGKILL
/// there, the entry stays owed and the next run, a local hit, finishes the push; a local run that does not wait hands
/// the push to a detached <c>cache push</c> of the same binary, which finishes it after the run has returned.
/// </summary>
[NotInParallel(nameof(RemotePushKillTests))]
public sealed class RemotePushKillTests : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly string _work = Directory.CreateTempSubdirectory("harmont-push-kill-").FullName;
    private readonly string _repository = $"team/push-kill-{Guid.NewGuid():N}";
    private readonly List<IAsyncDisposable> _servers = [];

    private string Cache => Path.Combine(_work, ".cache");

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }

        Harmont.Aot.Containment.HostileTree.Delete(_work);
    }

    private async Task<(RegistryServer Registry, RegistryProxy Proxy)> StartAsync()
    {
        var registry = await RegistryServer.SharedAsync();
        var proxy = new RegistryProxy(registry.Host);
        _servers.Add(proxy);
        return (registry, proxy);
    }

    [Test]
    public async Task A_kill_9_mid_push_leaves_the_entry_owed_and_the_next_run_pushes_it(CancellationToken cancellationToken)
    {
        var published = await AotSmoke.PublishedAsync();
        await Assert.That(published.ExitCode == 0).IsTrue().Because(published.Output);
        var (registry, proxy) = await StartAsync();
        var remote = ("HARMONT_CACHE_REMOTE", $"oci://{proxy.Host}/{_repository}?timeout=300s&push=wait");
        (string, string)[] env = [("HARMONT_CACHE_DIR", Cache), remote, ("CI", "true")];

        using (var killed = new LiveProcess(published.Binary, ["pushy", "--repo", _work], _work, env))
        {
            await killed.WaitForLineAsync(l => l.Contains("written", StringComparison.Ordinal), Patience);
            proxy.Hold = true;
            await WaitUntilAsync(() => proxy.Held > 0, "the push to reach the registry");
            killed.Signal("KILL");
            await killed.WaitForExitAsync(Patience);
        }

        proxy.Hold = false;
        await Assert.That(await EntryTagsAsync(registry, cancellationToken)).IsEmpty().Because("the killed push never tagged its entry");

        var next = await Exec.RunAsync(published.Binary, ["pushy", "--repo", _work], _work, cancellationToken, env);
        await Assert.That(next.ExitCode == 0).IsTrue().Because(next.Output);
        await Assert.That(next.Output).Contains("1 pushed", StringComparison.Ordinal);
        await Assert.That(await EntryTagsAsync(registry, cancellationToken)).HasSingleItem();
    }

    [Test]
    public async Task A_local_run_returns_at_once_and_a_detached_cache_push_finishes_its_push(CancellationToken cancellationToken)
    {
        var published = await AotSmoke.PublishedAsync();
        await Assert.That(published.ExitCode == 0).IsTrue().Because(published.Output);
        var (registry, proxy) = await StartAsync();
        (string, string)[] env = [("HARMONT_CACHE_DIR", Cache), ("HARMONT_CACHE_REMOTE", $"oci://{proxy.Host}/{_repository}?timeout=300s"), ("CI", "")];

        // Held for the whole run: a run that waited would not return until the proxy let go.
        using (var local = new LiveProcess(published.Binary, ["pushy", "--repo", _work], _work, env))
        {
            await local.WaitForLineAsync(l => l.Contains("written", StringComparison.Ordinal), Patience);
            proxy.Hold = true;
            await Assert.That(await local.WaitForExitAsync(Patience)).IsEqualTo(0).Because(local.Output);
            await Assert.That(local.Output).Contains("1 still to push; they go on in the background", StringComparison.Ordinal);
        }

        await Assert.That(await EntryTagsAsync(registry, cancellationToken)).IsEmpty();
        proxy.Hold = false;
        await WaitUntilAsync(async () => (await EntryTagsAsync(registry, cancellationToken)).Count == 1, "the detached uploader to push the entry");
        var log = Path.Combine(Cache, "remote", "push.log");
        await WaitUntilAsync(() => File.Exists(log) && File.ReadAllText(log).Contains("1 pushed", StringComparison.Ordinal), "the uploader's log");
    }

    private async Task<IReadOnlyList<string>> EntryTagsAsync(RegistryServer registry, CancellationToken cancellationToken)
    {
        using var client = new RegistryClient(RemoteCacheSetting.Parse(registry.Remote(_repository)), new RegistryCredentials(_ => null));
        return [.. (await client.ListTagsAsync(cancellationToken)).Where(Harmont.Aot.Cache.CacheEntryRules.IsKey)];
    }

    private static Task WaitUntilAsync(Func<bool> done, string what) => WaitUntilAsync(() => Task.FromResult(done()), what);

    private static async Task WaitUntilAsync(Func<Task<bool>> done, string what)
    {
        for (var waited = TimeSpan.Zero; !await done(); waited += TimeSpan.FromMilliseconds(100))
        {
            if (waited > Patience)
            {
                Assert.Fail($"waited {Patience.TotalSeconds} s for {what}");
            }

            await Task.Delay(100);
        }
    }
}
