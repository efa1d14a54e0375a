using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

/// <summary>The native-AOT binary writes and reads zstd bundles: SharpCompress's codec survives trimming.</summary>
[NotInParallel(nameof(AotBundleTests))]
public sealed class AotBundleTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harmont-aot-bundle-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Test]
    public async Task The_native_binary_exports_a_zstd_bundle_that_another_cache_imports_and_hits(CancellationToken cancellationToken)
    {
        var cancel = cancellationToken;
        var publish = await AotSmoke.PublishedAsync();
        await Assert.That(publish.ExitCode == 0).IsTrue().Because(publish.Output);
        var source = Directory.CreateDirectory(Path.Combine(_root, "repo", "src")).Parent!.FullName;
        await File.WriteAllTextAsync(Path.Combine(source, "src", "a.txt"), "alpha\n", cancel);
        var bundle = Path.Combine(_root, "cache.tar.zst");
        var garbage = Path.Combine(_root, "garbage.tar.zst");
        await File.WriteAllTextAsync(garbage, "not a bundle", cancel);

        Task<(int ExitCode, string Output)> RunAsync(string cache, params string[] args) =>
            Exec.RunAsync(publish.Binary, args, source, cancel, ("HARMONT_CACHE_DIR", Path.Combine(_root, cache)));

        var first = await RunAsync("first", "cached", "--repo", source);
        var export = await RunAsync("first", "cache", "export", bundle);
        var import = await RunAsync("second", "cache", "import", bundle);
        var refused = await RunAsync("second", "cache", "import", garbage);
        var again = await RunAsync("second", "cached", "--format", "json", "--repo", source);

        await Assert.That(first.ExitCode == 0).IsTrue().Because(first.Output);
        await Assert.That(export.ExitCode == 0).IsTrue().Because(export.Output);
        await Assert.That((await File.ReadAllBytesAsync(bundle, cancel))[..4])
            .IsEquivalentTo((IEnumerable<byte>)[0x28, 0xb5, 0x2f, 0xfd], CollectionOrdering.Matching);
        await Assert.That(import.ExitCode == 0).IsTrue().Because(import.Output);
        await Assert.That(import.Output).Contains("imported 2 entries", StringComparison.Ordinal);
        await Assert.That(refused.ExitCode).IsEqualTo(2);
        await Assert.That(refused.Output).Matches(@"^harmont: error: cache import of .*: it is not a zstd-compressed tar .*\n$");
        await Assert.That(again.ExitCode == 0).IsTrue().Because(again.Output);
        await Assert.That(again.Output.Split('\n').Count(l => l.Contains("\"event\":\"step_cache_hit\"", StringComparison.Ordinal))).IsEqualTo(2);
        await Assert.That(again.Output).DoesNotContain("\"event\":\"step_start\"", StringComparison.Ordinal);
    }
}
