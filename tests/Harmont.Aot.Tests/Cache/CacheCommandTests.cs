using Harmont.Aot.Cache;

namespace Harmont.Aot.Tests;

public sealed class CacheCommandTests : IDisposable
{
    private const string Key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task Ls_prune_export_import_and_clean_work_from_the_command_line()
    {
        var store = new CacheStore(_harness.Cache, TimeProvider.System);
        var staged = store.BeginEntry();
        Directory.CreateDirectory(Path.Combine(staged, "workspace"));
        await File.WriteAllTextAsync(Path.Combine(staged, "workspace", "a.txt"), new string('a', 2048), TestContext.Current.CancellationToken);
        store.Publish(staged, new CacheEntry { Key = Key, Pipeline = "ci", Step = "deps", Created = DateTimeOffset.UtcNow });
        var bundle = Path.Combine(_harness.Root, "cache.tar.gz");

        var ls = await _harness.RunAsync([], ["cache", "ls"]);
        var export = await _harness.RunAsync([], ["cache", "export", bundle]);
        var keep = await _harness.RunAsync([], ["cache", "prune", "--max-size", "1MiB"]);
        var prune = await _harness.RunAsync([], ["cache", "prune", "--max-size", "0"]);
        var import = await _harness.RunAsync([], ["cache", "import", bundle]);
        var clean = await _harness.RunAsync([], ["cache", "clean"]);

        Assert.True(ls.ExitCode == 0, ls.ToString());
        Assert.Matches(@"0123456789abcdef  ci/deps\s+2\.0 KiB\s+0s\s+0s", ls.Output);
        Assert.Contains("exported 1 entries", export.Output, StringComparison.Ordinal);
        Assert.Contains("0 entries removed", keep.Output, StringComparison.Ordinal);
        Assert.Contains("removed 0123456789abcdef ci/deps (2.0 KiB)", prune.Output, StringComparison.Ordinal);
        Assert.Contains("imported 1 entries", import.Output, StringComparison.Ordinal);
        Assert.Contains("1 entries removed", clean.Output, StringComparison.Ordinal);
        Assert.Empty(store.List());
    }

    [Fact]
    public async Task Bad_sizes_ages_and_bundles_are_usage_errors_that_say_how_to_write_them()
    {
        var garbage = Path.Combine(_harness.Root, "not-a-bundle.tar.gz");
        await File.WriteAllTextAsync(garbage, "hello", TestContext.Current.CancellationToken);

        var size = await _harness.RunAsync([], ["cache", "prune", "--max-size", "lots"]);
        var age = await _harness.RunAsync([], ["cache", "prune", "--older-than", "a week"]);
        var bundle = await _harness.RunAsync([], ["cache", "import", garbage]);
        var missing = await _harness.RunAsync([], ["cache", "import", Path.Combine(_harness.Root, "nope.tar.gz")]);

        Assert.Equal(2, size.ExitCode);
        Assert.Contains("write it like 10GiB", size.Error, StringComparison.Ordinal);
        Assert.Equal(2, age.ExitCode);
        Assert.Contains("write it like 7d", age.Error, StringComparison.Ordinal);
        Assert.Equal(2, bundle.ExitCode);
        Assert.Contains("not a zstd-compressed tar", bundle.Error, StringComparison.Ordinal);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("no file at", missing.Error, StringComparison.Ordinal);
    }
}
