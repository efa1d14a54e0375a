using Harmont.Aot.Cache;

namespace Harmont.Aot.Tests;

[NotInParallel(nameof(CacheCommandTests))]
public sealed class CacheCommandTests : IDisposable
{
    private const string Key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Test]
    public async Task Ls_prune_export_import_and_clean_work_from_the_command_line(CancellationToken cancellationToken)
    {
        var store = new CacheStore(_harness.Cache, TimeProvider.System);
        var staged = store.BeginEntry();
        Directory.CreateDirectory(Path.Combine(staged, "workspace"));
        await File.WriteAllTextAsync(Path.Combine(staged, "workspace", "a.txt"), new string('a', 2048), cancellationToken);
        store.Publish(staged, new CacheEntry { Key = Key, Pipeline = "ci", Step = "deps", Created = DateTimeOffset.UtcNow });
        var bundle = Path.Combine(_harness.Root, "cache.tar.gz");

        var ls = await _harness.RunAsync([], ["cache", "ls"]);
        var export = await _harness.RunAsync([], ["cache", "export", bundle]);
        var keep = await _harness.RunAsync([], ["cache", "prune", "--max-size", "1MiB"]);
        var prune = await _harness.RunAsync([], ["cache", "prune", "--max-size", "0"]);
        var import = await _harness.RunAsync([], ["cache", "import", bundle]);
        var clean = await _harness.RunAsync([], ["cache", "clean"]);

        await Assert.That(ls.ExitCode == 0).IsTrue().Because(ls.ToString());
        await Assert.That(ls.Output).Matches(@"0123456789abcdef  ci/deps\s+2\.0 KiB\s+0s\s+0s");
        await Assert.That(export.Output).Contains("exported 1 entries", StringComparison.Ordinal);
        await Assert.That(keep.Output).Contains("0 entries removed", StringComparison.Ordinal);
        await Assert.That(prune.Output).Contains("removed 0123456789abcdef ci/deps (2.0 KiB)", StringComparison.Ordinal);
        await Assert.That(import.Output).Contains("imported 1 entries", StringComparison.Ordinal);
        await Assert.That(clean.Output).Contains("1 entries removed", StringComparison.Ordinal);
        await Assert.That(store.List()).IsEmpty();
    }

    [Test]
    public async Task Bad_sizes_ages_and_bundles_are_usage_errors_that_say_how_to_write_them(CancellationToken cancellationToken)
    {
        var garbage = Path.Combine(_harness.Root, "not-a-bundle.tar.gz");
        await File.WriteAllTextAsync(garbage, "hello", cancellationToken);

        var size = await _harness.RunAsync([], ["cache", "prune", "--max-size", "lots"]);
        var age = await _harness.RunAsync([], ["cache", "prune", "--older-than", "a week"]);
        var bundle = await _harness.RunAsync([], ["cache", "import", garbage]);
        var missing = await _harness.RunAsync([], ["cache", "import", Path.Combine(_harness.Root, "nope.tar.gz")]);

        await Assert.That(size.ExitCode).IsEqualTo(2);
        await Assert.That(size.Error).Contains("write it like 10GiB", StringComparison.Ordinal);
        await Assert.That(age.ExitCode).IsEqualTo(2);
        await Assert.That(age.Error).Contains("write it like 7d", StringComparison.Ordinal);
        await Assert.That(bundle.ExitCode).IsEqualTo(2);
        await Assert.That(bundle.Error).Contains("not a zstd-compressed tar", StringComparison.Ordinal);
        await Assert.That(missing.ExitCode).IsEqualTo(2);
        await Assert.That(missing.Error).Contains("no file at", StringComparison.Ordinal);
    }
}
