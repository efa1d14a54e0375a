using Harmont.Aot.Cache;
using Harmont.Aot.Model;
using TUnit.Assertions.Enums;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests;

/// <summary>
/// Two cache directories on one engine sharing one registry: the second fetches what the first pushed, and the engine
/// already has the image, so both caches hold the same image; either one dropping its entry leaves the other's.
/// </summary>
[Property("Requires", "docker")]
public sealed class SharedEngineRemoteCacheTests : IAsyncDisposable
{
    // Its own repository and project: the suite's registry and engine hold every test's entries.
    private readonly string _repository = $"team/shared-engine-{Guid.NewGuid():N}";
    private readonly string _project = $"shared-engine-{Guid.NewGuid():N}";
    private readonly RunHarness _a = new();
    private readonly RunHarness _b = new();
    private RegistryServer _registry = null!;

    private static CancellationToken Ct => TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None;

    [Before(Test)]
    public async Task InitializeAsync()
    {
        await BusyboxImage.EnsureAsync();
        _registry = await RegistryServer.SharedAsync();
        foreach (var cache in new[] { _a, _b })
        {
            cache.WriteSource("input.txt", "v1\n");
            cache.Env["HARMONT_CACHE_REMOTE"] = _registry.Remote(_repository);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _a.RunAsync([], ["cache", "clean"]);
        await _b.RunAsync([], ["cache", "clean"]);
        _a.Dispose();
        _b.Dispose();
        await _registry.DisposeAsync();
    }

    private PipelineDefinition Chain() => new()
    {
        Slug = "shared-engine",
        Runner = Runner.Docker,
        DefaultImage = BusyboxImage.Image,
        Project = _project,
        Steps =
        [
            Cached("tool", "echo tool > /etc/tool-mark", null, Forever()),
            Cached("build", "cat /etc/tool-mark input.txt > build.out && echo build >> /etc/tool-mark", "tool", OnChange("input.txt")),
        ],
    };

    [Test]
    public async Task A_cache_that_fetched_the_others_images_and_cleans_leaves_them_and_the_other_still_hits()
    {
        var pushed = await _a.RunAsync(Chain());
        await Assert.That(pushed.ExitCode == 0).IsTrue().Because(pushed.ToString());
        await Assert.That(pushed.Error).Contains("2 pushed", StringComparison.Ordinal);
        var fetched = await _b.RunAsync(Chain());
        await Assert.That(fetched.ExitCode == 0).IsTrue().Because(fetched.ToString());
        await Assert.That(fetched.Executed).IsEmpty();
        var images = new CacheStore(_a.Cache, TimeProvider.System).List().Select(l => l.Entry.Image!).ToList();
        await Assert.That(new CacheStore(_b.Cache, TimeProvider.System).List().Select(l => l.Entry.Image!))
            .IsEquivalentTo(images, CollectionOrdering.Any);

        var clean = await _b.RunAsync([], ["cache", "clean"]);
        await Assert.That(clean.ExitCode == 0).IsTrue().Because(clean.ToString());

        using (var client = await DockerTestEngine.ConnectAsync())
        {
            foreach (var image in images)
            {
                await Assert.That(await client.InspectImageAsync(image, Ct)).IsNotNull().Because($"cache A's entry records image {image}");
            }
        }

        var again = await _a.RunAsync(Chain());
        await Assert.That(again.ExitCode == 0).IsTrue().Because(again.ToString());
        await Assert.That(again.Executed).IsEmpty();
        await Assert.That(again.Hit("tool") && again.Hit("build")).IsTrue().Because(again.ToString());
    }
}
