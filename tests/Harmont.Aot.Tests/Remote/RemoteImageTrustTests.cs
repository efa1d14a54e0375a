using System.Text.Json;
using Harmont.Aot.Cache;
using Harmont.Aot.Cache.Remote;
using Harmont.Aot.Model;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests;

/// <summary>
/// The images of shared entries, on a real registry and real engines: an image several entries share survives
/// retention while one of them is kept; an entry's image field is believed only when the registry's image at the
/// digest it names is that image and the entry's own record agrees; and one image goes up once per run however
/// many entries name it.
/// </summary>
[Property("Requires", "docker")]
[Property("Requires", "root")]
[NotInParallel(nameof(RemoteImageTrustTests))]
public sealed class RemoteImageTrustTests : IAsyncDisposable
{
    private readonly string _repository = $"team/image-trust-{Guid.NewGuid():N}";
    private readonly RunHarness _a = new();
    private readonly RunHarness _b = new();
    private readonly RunHarness _c = new();
    private RegistryServer _registry = null!;
    // A list, so a test adds to it rather than assigning a field.
    private readonly List<SecondEngine> _engines = [];

    [Before(Test)]
    public async Task InitializeAsync()
    {
        await BusyboxImage.EnsureAsync();
        _registry = await RegistryServer.SharedAsync();
        foreach (var machine in new[] { _a, _b, _c })
        {
            machine.WriteSource("input.txt", "v1\n");
            machine.Env["HARMONT_CACHE_REMOTE"] = _registry.Remote(_repository);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var machine in new[] { _a, _c })
        {
            await machine.RunAsync([], ["cache", "clean"]);
            machine.Dispose();
        }

        _b.Dispose();
        foreach (var engine in _engines)
        {
            await engine.DisposeAsync();
        }

        await _registry.DisposeAsync();
    }

    // A root that changes the system, and children that change only their workspace: they share the root's image.
    private static PipelineDefinition Shared(string childCommand = "cat sys.out > child.out && echo one", bool twoChildren = false) => new()
    {
        Slug = "image-trust",
        Runner = Runner.Docker,
        DefaultImage = BusyboxImage.Image,
        Project = "remote-image-trust",
        Steps =
        [
            Cached("sys", "echo sys > sys.out && echo sys > /etc/sysfile", null, Forever()),
            Cached("child", childCommand, "sys", Forever()),
            .. twoChildren ? new[] { Cached("sibling", "cat sys.out /etc/sysfile > sibling.out", "sys", Forever()) } : [],
        ],
    };

    [Test]
    public async Task Prune_keeps_an_image_that_a_kept_entry_shares_with_a_deleted_one(CancellationToken cancellationToken)
    {
        var first = await _a.RunAsync(Shared());
        await Assert.That(first.Error).Contains("2 pushed", StringComparison.Ordinal).Because(first.ToString());
        var second = await _a.RunAsync(Shared("cat sys.out > child.out && echo two"));
        await Assert.That(second.Executed).IsEquivalentTo((IEnumerable<string>)["child"]).Because(second.ToString());
        await Assert.That(second.Error).Contains("1 pushed", StringComparison.Ordinal).Because(second.ToString());

        var prune = await _a.RunAsync([], ["cache", "prune", "--remote", "--keep", "1"]);
        await Assert.That(prune.ExitCode).IsEqualTo(0).Because(prune.ToString());
        await Assert.That(prune.Output).Contains("deleted 1", StringComparison.Ordinal);

        // Another machine, none of these images on its engine: both kept entries come whole from the registry.
        var engineB = await SecondEngine.StartAsync();
        _engines.Add(engineB);
        _b.Env["DOCKER_HOST"] = engineB.DockerHost;
        var other = await _b.RunAsync(Shared("cat sys.out > child.out && echo two"));
        await Assert.That(other.ExitCode == 0).IsTrue().Because(other.ToString());
        await Assert.That(other.Executed).IsEmpty().Because(other.ToString());
        await Assert.That(other.Error).DoesNotContain("warning", StringComparison.Ordinal);
    }

    [Test]
    public async Task An_entry_naming_a_local_image_with_a_digest_of_its_choosing_never_tags_that_image(CancellationToken cancellationToken)
    {
        var pushed = await _a.RunAsync(Shared());
        await Assert.That(pushed.Error).Contains("2 pushed", StringComparison.Ordinal).Because(pushed.ToString());
        using var engine = await DockerTestEngine.ConnectAsync();
        var user = (await engine.InspectImageAsync(BusyboxImage.Image, cancellationToken))!;

        // The user's own image, by its id, and a digest the registry has never held.
        await ForgeAsync("sys", m => m with { Image = user.ID, ImageDigest = OciDigest.Prefix + new string('7', 64) }, cancellationToken);

        var run = await _c.RunAsync(Shared());

        await AssertMissWithOneWarning(run, "does not have");
        var after = (await engine.InspectImageAsync(BusyboxImage.Image, cancellationToken))!;
        await Assert.That(after.RepoTags).IsEquivalentTo(user.RepoTags).Because("the user's image got no name of the cache's");
    }

    [Test]
    public async Task An_entry_whose_image_field_disagrees_with_its_own_record_is_a_miss(CancellationToken cancellationToken)
    {
        const string OwnImage = "cat sys.out > child.out && echo child > /etc/childfile";
        var pushed = await _a.RunAsync(Shared(OwnImage));
        await Assert.That(pushed.Error).Contains("2 pushed", StringComparison.Ordinal).Because(pushed.ToString());

        // 'sys' is made to name the genuine image (id and digest, both real) of its child's entry: the registry agrees
        // with the field, the layer's own entry.json does not.
        var child = new CacheStore(_a.Cache, TimeProvider.System).List().Single(l => l.Entry.Step == "child").Entry;
        using var client = Client();
        var (_, childMetadata) = await ReadAsync(client, child.Key, cancellationToken);
        await ForgeAsync("sys", m => m with { Image = childMetadata.Image, ImageDigest = childMetadata.ImageDigest }, cancellationToken);

        var run = await _c.RunAsync(Shared(OwnImage));

        await AssertMissWithOneWarning(run, "where the registry's metadata names");
    }

    [Test]
    public async Task Every_forged_pair_of_image_and_digest_is_a_miss_that_leaves_every_image_as_it_was(CancellationToken cancellationToken)
    {
        const string OwnImage = "cat sys.out > child.out && echo child > /etc/childfile";
        var pushed = await _a.RunAsync(Shared(OwnImage));
        await Assert.That(pushed.Error).Contains("2 pushed", StringComparison.Ordinal).Because(pushed.ToString());
        using var engine = await DockerTestEngine.ConnectAsync();
        var user = (await engine.InspectImageAsync(BusyboxImage.Image, cancellationToken))!;
        var entries = new CacheStore(_a.Cache, TimeProvider.System).List().ToDictionary(l => l.Entry.Step, l => l.Entry.Key);
        using var client = Client();
        var (_, sys) = await ReadAsync(client, entries["sys"], cancellationToken);
        var (_, child) = await ReadAsync(client, entries["child"], cancellationToken);
        var random = OciDigest.Prefix + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

        // Every image id (the user's, another entry's, one nobody has) with every digest (unknown, another entry's, its
        // own), less the one genuine pair; and the field pointing to nothing at all on a Docker entry.
        var images = new[] { ("the user's image", user.ID), ("the child's image", child.Image!), ("an unknown image", random), ("its own image", sys.Image!) };
        var digests = new[] { ("an unknown digest", random), ("the child's digest", child.ImageDigest!), ("its own digest", sys.ImageDigest!) };
        var cases = 0;
        foreach (var ((imageName, image), (digestName, digest)) in images.SelectMany(i => digests.Select(d => (i, d))))
        {
            if (image == sys.Image && digest == sys.ImageDigest)
            {
                continue;
            }

            cases++;
            await ForgeAsync("sys", m => m with { Image = image, ImageDigest = digest }, cancellationToken);
            using var fresh = new RunHarness();
            fresh.WriteSource("input.txt", "v1\n");
            fresh.Env["HARMONT_CACHE_REMOTE"] = _registry.Remote(_repository, "?mode=read");
            var run = await fresh.RunAsync(Shared(OwnImage));
            var because = $"{imageName} with {digestName}:\n{run}";
            await Assert.That(run.ExitCode == 0 && run.Executed.Contains("sys")).IsTrue().Because(because);
            await Assert.That(run.Error.Split('\n').Count(l => l.Contains("warning: remote cache", StringComparison.Ordinal))).IsEqualTo(1).Because(because);
            await Assert.That((await engine.InspectImageAsync(BusyboxImage.Image, cancellationToken))!.RepoTags).IsEquivalentTo(user.RepoTags).Because(because);
            await fresh.RunAsync([], ["cache", "clean"]);
        }

        await Assert.That(cases).IsEqualTo(11);
    }

    [Test]
    public async Task One_image_that_several_entries_share_goes_up_once_per_run(CancellationToken cancellationToken)
    {
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        var run = await _a.RunAsync(Shared(twoChildren: true));
        var until = DateTimeOffset.UtcNow.AddSeconds(1);
        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(run.Error).Contains("3 pushed", StringComparison.Ordinal).Because(run.ToString());
        await Assert.That(run.Error).DoesNotContain("failed", StringComparison.Ordinal).Because(run.ToString());

        var (exit, pushes) = await Exec.RunAsync(
            "docker",
            ["events", "--since", Unix(since), "--until", Unix(until), "--filter", "type=image", "--filter", "event=push", "--format", "{{.Actor.ID}}"],
            Environment.CurrentDirectory,
            cancellationToken);
        await Assert.That(exit).IsEqualTo(0).Because(pushes);
        var enginePushes = pushes.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(p => p.Contains(_repository, StringComparison.Ordinal));
        await Assert.That(enginePushes).IsEqualTo(1).Because($"the engine pushed: {pushes}");

        // Every entry's image tag names the one manifest.
        using var client = Client();
        var tags = (await client.ListTagsAsync(cancellationToken)).Where(t => RemotePrune.IsImageTag(t, out _)).ToList();
        await Assert.That(tags.Count).IsEqualTo(3);
        var digests = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            digests.Add((await client.ResolveManifestAsync(tag, cancellationToken))!);
        }

        await Assert.That(digests.Count).IsEqualTo(1);
    }

    private RegistryClient Client() => new(RemoteCacheSetting.Parse(_registry.Remote(_repository)), new RegistryCredentials(_ => null));

    private static string Unix(DateTimeOffset time) => time.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<(OciManifest Manifest, RemoteEntryMetadata Metadata)> ReadAsync(RegistryClient client, string key, CancellationToken cancellationToken)
    {
        var found = (await client.GetManifestAsync(key, cancellationToken))!.Value;
        return await RemoteEntryReader.ReadAsync(client, key, found.Manifest, cancellationToken);
    }

    // Rewrites the metadata of step's entry on the registry, its manifest pointing at the forged config.
    private async Task ForgeAsync(string step, Func<RemoteEntryMetadata, RemoteEntryMetadata> forge, CancellationToken cancellationToken)
    {
        var key = new CacheStore(_a.Cache, TimeProvider.System).List().Single(l => l.Entry.Step == step).Entry.Key;
        using var client = Client();
        var (manifest, metadata) = await ReadAsync(client, key, cancellationToken);
        var config = JsonSerializer.SerializeToUtf8Bytes(forge(metadata), RegistryJsonContext.Default.RemoteEntryMetadata);
        await client.PushBlobAsync(OciDigest.Of(config), config.Length, () => new MemoryStream(config), null, cancellationToken);
        var forged = manifest with { Config = manifest.Config! with { Digest = OciDigest.Of(config), Size = config.Length } };
        await client.PutManifestAsync(key, JsonSerializer.SerializeToUtf8Bytes(forged, RegistryJsonContext.Default.OciManifest), OciManifest.MediaTypeName, cancellationToken);
    }

    // Machine C shares A's engine, not its cache dir: 'sys' (and so its child) runs, with one warning saying why.
    private static async Task AssertMissWithOneWarning(RunOutcome run, string why)
    {
        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(run.Executed).Contains("sys").Because(run.ToString());
        var warnings = run.Error.Split('\n').Where(l => l.Contains("warning: remote cache", StringComparison.Ordinal)).ToList();
        await Assert.That(warnings.Count).IsEqualTo(1).Because(run.ToString());
        await Assert.That(warnings[0]).Contains(why, StringComparison.Ordinal);
    }
}
