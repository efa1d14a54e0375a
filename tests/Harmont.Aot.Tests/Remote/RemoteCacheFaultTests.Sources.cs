using Harmont.Aot.Cache;
using Harmont.Aot.Cache.Remote;
using Harmont.Aot.Tests.Cache;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Tests;

/// <summary>
/// A source manifest on the registry that no run can use (forged, or written by a broken runner) is a fault like a
/// corrupt blob: the entry is a miss with one warning, nothing of it is published, and no run ever fails for it.
/// </summary>
public sealed partial class RemoteCacheFaultTests
{
    public static IEnumerable<string> Forgeries() => ForgedSources.Names;

    [Test]
    [MethodDataSource(nameof(Forgeries))]
    public async Task Forged_source_manifest_is_a_miss_and_one_warning_run_after_run(string forgery, CancellationToken cancellationToken)
    {
        var registry = await StartRegistryAsync();
        Use(_a, registry.Remote("team/faults"));
        var pushed = await _a.RunAsync(Chain());
        await Assert.That(pushed.Error).Contains("4 pushed", StringComparison.Ordinal);
        var two = new CacheStore(_a.Cache, TimeProvider.System).List().Single(l => l.Entry.Step == "two").Entry.Key;

        // Every entry on the registry that brings in 'two''s layer ships it with the forged manifest; its layer stays intact.
        await ForgeSourcesOfAsync(registry, two, ForgedSources.Bytes(forgery), cancellationToken);
        Use(_b, registry.Remote("team/faults", "?mode=read"));
        var run = await _b.RunAsync(Chain());
        var published = Path.Combine(_b.Cache, "entries", two, "sources");
        var readable = File.Exists(published) ? Readable(published) : "B holds no entry for 'two'";
        await Assert.That((await _b.RunAsync([], ["cache", "clean"])).ExitCode).IsEqualTo(0);
        var next = await _b.RunAsync(Chain());

        foreach (var (outcome, which) in new[] { (run, "first"), (next, "next") })
        {
            await AssertPassedWithOneWarning(outcome);
            await Assert.That(outcome.Error).Contains("is a source manifest no run can use", StringComparison.Ordinal).Because($"{which} run: {outcome}");
            await Assert.That(outcome.Executed).Contains("two").Because($"{which} run: {outcome}");
            await Assert.That(outcome.Executed).Contains("middle").Because($"{which} run: {outcome}");
            await Assert.That(outcome.Hit("one")).IsTrue().Because($"{which} run: {outcome}");
        }

        // What B holds for 'two' is what B recorded itself, a manifest its children can read.
        await Assert.That(readable).IsNull();
    }

    private static async Task ForgeSourcesOfAsync(RegistryServer registry, string key, byte[] manifest, CancellationToken cancellationToken)
    {
        using var client = new RegistryClient(RemoteCacheSetting.Parse(registry.Remote("team/faults")), new RegistryCredentials(_ => null));
        using var packed = new MemoryStream();
        await using (var compressed = CacheBundleFormat.Compress(packed))
        {
            await compressed.WriteAsync(manifest, cancellationToken);
        }

        var blob = packed.ToArray(); // A MemoryStream gives its bytes after it is closed.
        var forged = new OciDescriptor { MediaType = RemoteCache.SourcesMediaType, Digest = OciDigest.Of(blob), Size = blob.Length };
        await client.PushBlobAsync(forged.Digest, blob.Length, () => new MemoryStream(blob), null, cancellationToken);
        foreach (var tag in await client.ListTagsAsync(cancellationToken))
        {
            if (await client.GetManifestAsync(tag, cancellationToken) is not { } found || found.Manifest.ArtifactType != RemoteEntryMetadata.ArtifactType)
            {
                continue;
            }

            var (original, metadata) = await RemoteEntryReader.ReadAsync(client, tag, found.Manifest, cancellationToken);
            var at = metadata.Layers.ToList().IndexOf(key);
            if (at < 0)
            {
                continue;
            }

            var layers = original.Layers!.ToArray();
            layers[metadata.Layers.Count + at] = forged;
            await client.PutManifestAsync(
                tag, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(original with { Layers = layers }, RegistryJsonContext.Default.OciManifest), OciManifest.MediaTypeName, cancellationToken);
        }
    }

    private static string? Readable(string manifest)
    {
        try
        {
            _ = SourceManifest.Read(manifest);
            return null;
        }
        catch (InvalidDataException ex)
        {
            return ex.Message;
        }
    }
}
