using Harmont.Aot.Model;
using TUnit.Assertions.Enums;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests;

/// <summary>
/// Host-backend entries shared through a real registry: workspaces only. Two harnesses are two machines, each with
/// its own source checkout and an empty cache dir; the project identity is fixed, as one origin URL would make it.
/// </summary>
[NotInParallel(nameof(RemoteHostCacheTests))]
public sealed class RemoteHostCacheTests : IAsyncDisposable
{
    // Its own repository: the suite's registry (tests/run.sh) holds every test's entries.
    private readonly string _repository = $"team/host-cache-{Guid.NewGuid():N}";

    private const string Secret = "tell-nobody-9f3a1c";
    private readonly RunHarness _a = new();
    private readonly RunHarness _b = new();
    private RegistryServer _registry = null!;

    [Before(Test)]
    public async Task InitializeAsync()
    {
        _registry = await RegistryServer.SharedAsync();
        foreach (var machine in new[] { _a, _b })
        {
            machine.Env["HARMONT_CACHE_REMOTE"] = _registry.Remote(_repository);
            machine.Env["SHARED_TOKEN"] = Secret;
            machine.WriteSource("input.txt", "v1\n");
            machine.WriteSource("other.txt", "unchanged\n");
        }
    }

    public async ValueTask DisposeAsync()
    {
        _a.Dispose();
        _b.Dispose();
        await _registry.DisposeAsync();
    }

    private static PipelineDefinition Shared() => new()
    {
        Slug = "remote-host",
        Runner = Runner.Host,
        Project = "remote-cache-test",
        Steps =
        [
            new StepDefinition
            {
                Key = "deps",
                Label = "deps",
                Command = () => "echo deps-made > deps.out && echo \"$SHARED_TOKEN\" | wc -c",
                Secrets = ["SHARED_TOKEN"],
                Cache = [Forever()],
            },
            Cached("build", "cat deps.out input.txt > build.out && echo built >> build.out", "deps", OnChange("input.txt")),
            Cached("lint", "cat deps.out > lint.out && echo linted >> lint.out", "deps", Forever()),
            Step("report", "cat build.out other.txt", "build"),
        ],
    };

    [Test]
    public async Task Machine_with_an_empty_cache_starts_from_the_other_machines_hits_and_gets_its_outputs()
    {
        var cold = await _a.RunAsync(Shared());
        await Assert.That(cold.ExitCode == 0).IsTrue().Because(cold.ToString());
        await Assert.That(cold.Executed.Order(StringComparer.Ordinal))
            .IsEquivalentTo((IEnumerable<string>)["build", "deps", "lint", "report"], CollectionOrdering.Matching);
        await Assert.That(cold.Error).Contains("3 pushed", StringComparison.Ordinal);

        var warm = await _b.RunAsync(Shared());

        await Assert.That(warm.ExitCode == 0).IsTrue().Because(warm.ToString());
        await Assert.That(warm.Hit("deps") && warm.Hit("build") && warm.Hit("lint")).IsTrue().Because(warm.ToString());
        await Assert.That(warm.Executed).IsEquivalentTo((IEnumerable<string>)["report"], CollectionOrdering.Matching);
        await Assert.That(warm.LogsOf("report")).IsEquivalentTo(cold.LogsOf("report"), CollectionOrdering.Matching);
        await Assert.That(warm.Error).Contains("fetched", StringComparison.Ordinal);
    }

    [Test]
    public async Task After_a_one_file_edit_only_the_affected_steps_run_from_the_remote_parents_state()
    {
        var first = await _a.RunAsync(Shared());
        await Assert.That(first.ExitCode == 0).IsTrue().Because(first.ToString());

        _b.WriteSource("input.txt", "v2\n");
        var edited = await _b.RunAsync(Shared());

        await Assert.That(edited.ExitCode == 0).IsTrue().Because(edited.ToString());
        await Assert.That(edited.Executed).IsEquivalentTo((IEnumerable<string>)["build", "report"], CollectionOrdering.Matching);
        await Assert.That(edited.LogsOf("report"))
            .IsEquivalentTo((IEnumerable<string>)["deps-made", "v2", "built", "unchanged"], CollectionOrdering.Matching);

        // A cold run of the edited tree on a third machine says the same.
        using var cold = new RunHarness();
        cold.WriteSource("input.txt", "v2\n");
        cold.WriteSource("other.txt", "unchanged\n");
        cold.Env["SHARED_TOKEN"] = Secret;
        var reference = await cold.RunAsync(Shared());
        await Assert.That(edited.LogsOf("report")).IsEquivalentTo(reference.LogsOf("report"), CollectionOrdering.Matching);
    }

    [Test]
    public async Task Entries_of_one_run_share_one_source_manifest_blob_and_their_layers_hold_none(CancellationToken cancellationToken)
    {
        var run = await _a.RunAsync(Shared());
        await Assert.That(run.Error).Contains("3 pushed", StringComparison.Ordinal);

        using var client = new Harmont.Aot.Cache.Remote.RegistryClient(
            Harmont.Aot.Cache.Remote.RemoteCacheSetting.Parse(_registry.Remote(_repository)), new Harmont.Aot.Cache.Remote.RegistryCredentials(_ => null));
        var sources = new HashSet<string>(StringComparer.Ordinal);
        var bundles = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tag in (await client.ListTagsAsync(cancellationToken)).Where(t => !t.EndsWith("-image", StringComparison.Ordinal)))
        {
            var layers = (await client.GetManifestAsync(tag, cancellationToken))!.Value.Manifest.Layers!;
            sources.UnionWith(layers.Where(l => l.MediaType == Harmont.Aot.Cache.Remote.RemoteCache.SourcesMediaType).Select(l => l.Digest));
            bundles.UnionWith(layers.Where(l => l.MediaType == Harmont.Aot.Cache.Remote.RemoteCache.LayerMediaType).Select(l => l.Digest));
        }

        await Assert.That(sources.Count).IsEqualTo(1);
        foreach (var bundle in bundles)
        {
            using var blob = new MemoryStream();
            await client.DownloadBlobAsync(new() { MediaType = "", Digest = bundle, Size = new FileInfo(_registry.BlobFile(bundle)).Length }, blob, cancellationToken);
            using var tar = new System.Formats.Tar.TarReader(Harmont.Aot.Cache.CacheBundleFormat.Decompress(new MemoryStream(blob.ToArray())));
            while (tar.GetNextEntry() is { } member)
            {
                await Assert.That(member.Name.EndsWith("/sources", StringComparison.Ordinal)).IsFalse().Because(member.Name);
            }
        }

        // And a machine that reads them gets whole entries.
        var warm = await _b.RunAsync(Shared());
        await Assert.That(warm.Hit("deps") && warm.Hit("build") && warm.Hit("lint")).IsTrue().Because(warm.ToString());
        await Assert.That(warm.LogsOf("report")).IsEquivalentTo(run.LogsOf("report"), CollectionOrdering.Matching);
    }

    [Test]
    public async Task Nothing_pushed_holds_a_secret_a_step_used(CancellationToken cancellationToken)
    {
        var run = await _a.RunAsync(Shared());
        await Assert.That(run.ExitCode == 0).IsTrue().Because(run.ToString());
        await Assert.That(_registry.BlobFiles()).IsNotEmpty();

        // Layers are compressed, so each blob is searched as stored and, where it decompresses, as its tar.
        var secret = System.Text.Encoding.UTF8.GetBytes(Secret);
        foreach (var file in Directory.EnumerateFiles(_registry.Storage, "*", SearchOption.AllDirectories))
        {
            var bytes = await File.ReadAllBytesAsync(file, cancellationToken);
            await Assert.That(bytes.AsSpan().IndexOf(secret) >= 0).IsFalse().Because($"{file} holds the secret");
            await Assert.That(Decompressed(bytes).AsSpan().IndexOf(secret) >= 0).IsFalse().Because($"{file} holds the secret, compressed");
        }
    }

    private static byte[] Decompressed(byte[] blob)
    {
        try
        {
            using var tar = Harmont.Aot.Cache.CacheBundleFormat.Decompress(new MemoryStream(blob));
            using var plain = new MemoryStream();
            tar.CopyTo(plain);
            return plain.ToArray();
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or IOException)
        {
            return [];
        }
    }
}
