using Harmont.Aot.Cache;
using Harmont.Aot.Cleanup;
using Harmont.Aot.Model;
using Harmont.Aot.Runners.Docker;
using TUnit.Assertions.Enums;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests.Cache;

/// <summary>
/// Two cache directories on one engine (two checkouts, two users) running the same step: each names the images its
/// entries record with a name of its own, so one cache recording or dropping the key never leaves the other's image
/// without a name, for the engine to delete.
/// </summary>
[Property("Requires", "docker")]
public sealed class TwoCachesOneEngineTests : IAsyncDisposable
{
    // Its own project: no other test's run records these keys on the engine.
    private readonly string _project = $"two-caches-{Guid.NewGuid():N}";
    private readonly RunHarness _a = new();
    private readonly RunHarness _b = new();

    private static CancellationToken Ct => TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None;

    [Before(Test)]
    public async Task InitializeAsync() => await BusyboxImage.EnsureAsync();

    public async ValueTask DisposeAsync()
    {
        await _a.RunAsync([], ["cache", "clean"]);
        await _b.RunAsync([], ["cache", "clean"]);
        _a.Dispose();
        _b.Dispose();
    }

    // The leaf runs from the cached step's image, so a run needs that image, not only its entry.
    private PipelineDefinition Chain() => new()
    {
        Slug = "two-caches",
        Runner = Runner.Docker,
        DefaultImage = BusyboxImage.Image,
        Project = _project,
        Steps = [Cached("tool", "echo tool > /etc/tool-mark", null, Forever()), Step("use", "cat /etc/tool-mark", "tool")],
    };

    [Test]
    public async Task One_cache_cleaning_the_key_both_ran_leaves_the_others_image_named_and_the_other_still_hits()
    {
        var first = await _a.RunAsync(Chain());
        await Assert.That(first.ExitCode == 0).IsTrue().Because(first.ToString());
        var other = await _b.RunAsync(Chain());
        await Assert.That(other.ExitCode == 0).IsTrue().Because(other.ToString());
        await Assert.That(other.Executed).IsEquivalentTo((IEnumerable<string>)["tool", "use"], CollectionOrdering.Matching);
        var clean = await _b.RunAsync([], ["cache", "clean"]);
        await Assert.That(clean.ExitCode == 0).IsTrue().Because(clean.ToString());

        // What `docker image prune` takes, an image nothing names, kept to A's images: A's must not be one.
        var entry = (await Assert.That(new CacheStore(_a.Cache, TimeProvider.System).List()).HasSingleItem()).Entry;
        var (exit, output) = await Exec.RunAsync(
            "docker", ["image", "prune", "--force", "--filter", $"label={DockerNames.CacheLabel}={OwnerLock.Label(_a.Cache)}"], _a.Root, Ct);
        await Assert.That(exit == 0).IsTrue().Because(output);
        using (var client = await DockerTestEngine.ConnectAsync())
        {
            await Assert.That(await client.InspectImageAsync(entry.Image!, Ct)).IsNotNull();
        }

        var again = await _a.RunAsync(Chain());

        await Assert.That(again.ExitCode == 0).IsTrue().Because(again.ToString());
        await Assert.That(again.Hit("tool")).IsTrue().Because(again.ToString());
        await Assert.That(again.Executed).IsEquivalentTo((IEnumerable<string>)["use"], CollectionOrdering.Matching);
        await Assert.That(again.LogsOf("use")).IsEquivalentTo((IEnumerable<string>)["tool"], CollectionOrdering.Matching);
    }
}
