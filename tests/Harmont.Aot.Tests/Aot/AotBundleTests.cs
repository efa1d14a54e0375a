namespace Harmont.Aot.Tests;

/// <summary>The native-AOT binary writes and reads zstd bundles: SharpCompress's codec survives trimming.</summary>
public sealed class AotBundleTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harmont-aot-bundle-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task The_native_binary_exports_a_zstd_bundle_that_another_cache_imports_and_hits()
    {
        var cancel = TestContext.Current.CancellationToken;
        var publish = await AotSmoke.PublishedAsync();
        Assert.True(publish.ExitCode == 0, publish.Output);
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

        Assert.True(first.ExitCode == 0, first.Output);
        Assert.True(export.ExitCode == 0, export.Output);
        Assert.Equal([0x28, 0xb5, 0x2f, 0xfd], (await File.ReadAllBytesAsync(bundle, cancel))[..4]);
        Assert.True(import.ExitCode == 0, import.Output);
        Assert.Contains("imported 2 entries", import.Output, StringComparison.Ordinal);
        Assert.Equal(2, refused.ExitCode);
        Assert.Matches(@"^harmont: error: cache import of .*: it is not a zstd-compressed tar .*\n$", refused.Output);
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Equal(2, again.Output.Split('\n').Count(l => l.Contains("\"event\":\"step_cache_hit\"", StringComparison.Ordinal)));
        Assert.DoesNotContain("\"event\":\"step_start\"", again.Output, StringComparison.Ordinal);
    }
}
