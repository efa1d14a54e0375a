using System.Formats.Tar;
using Harmont.Aot.Cache;
using Harmont.Aot.Model;

namespace Harmont.Aot.Tests;

public sealed class CacheStoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harmont-cache-").FullName;
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Published_entry_appears_whole_and_the_first_writer_wins()
    {
        var store = new CacheStore(Path.Combine(_root, "store"), _clock);
        var first = Stage(store, "first");
        var second = Stage(store, "second");

        Assert.True(store.Publish(first, Entry(KeyA)));
        Assert.False(store.Publish(second, Entry(KeyA)));

        using var lease = store.TryOpen(KeyA);
        Assert.NotNull(lease);
        Assert.Equal("first", File.ReadAllText(Path.Combine(lease.Directory, "workspace", "out.txt")));
        Assert.Equal(5, lease.Entry.Size);
        Assert.False(Directory.Exists(second));
        Assert.Null(store.TryOpen(KeyB));
    }

    [Fact]
    public void Eviction_removes_least_recently_used_first_and_never_an_entry_in_use()
    {
        var store = new CacheStore(Path.Combine(_root, "store"), _clock);
        foreach (var key in new[] { KeyA, KeyB, KeyC })
        {
            store.Publish(Stage(store, new string('x', 1000)), Entry(key));
            _clock.Advance(TimeSpan.FromMinutes(1));
        }

        using (store.TryOpen(KeyA))
        {
            _clock.Advance(TimeSpan.FromMinutes(1));
            using var inUse = store.TryOpen(KeyB);
            var evicted = store.EvictToFit(0);

            // A and B are open: only C can go, however much the bound asks for.
            Assert.Equal([KeyC], evicted.Select(e => e.Entry.Key));
        }

        Assert.Equal([KeyA], store.EvictToFit(1500).Select(e => e.Entry.Key));
        Assert.Equal([KeyB], store.List().Select(l => l.Entry.Key));
    }

    [Fact]
    public void Evicting_an_entry_takes_the_entries_layered_on_it_which_could_never_hit_again()
    {
        var store = new CacheStore(Path.Combine(_root, "store"), _clock);
        store.Publish(Stage(store, new string('x', 1000)), Entry(KeyA));
        store.Publish(Stage(store, "b"), Entry(KeyB) with { Format = CacheEntry.LayeredFormat, Base = KeyA, LayerStrategy = "overlay" });
        store.Publish(Stage(store, "c"), Entry(KeyC) with { Format = CacheEntry.LayeredFormat, Base = KeyB, LayerStrategy = "overlay" });
        _clock.Advance(TimeSpan.FromMinutes(1));
        using (store.TryOpen(KeyB))
        using (store.TryOpen(KeyC))
        {
            // A is the least recently used; taking it takes B and C, which stack on it.
        }

        var evicted = store.EvictToFit(500);

        Assert.Equal([KeyA, KeyB, KeyC], evicted.Select(e => e.Entry.Key));
        Assert.Empty(store.List());
    }

    [Fact]
    public void Prune_removes_entries_unused_for_longer_than_the_age()
    {
        var store = new CacheStore(Path.Combine(_root, "store"), _clock);
        store.Publish(Stage(store, "old"), Entry(KeyA));
        _clock.Advance(TimeSpan.FromDays(8));
        store.Publish(Stage(store, "new"), Entry(KeyB));

        var pruned = store.Prune(TimeSpan.FromDays(7));

        Assert.Equal([KeyA], pruned.Select(p => p.Entry.Key));
        Assert.Equal([KeyB], store.List().Select(l => l.Entry.Key));
    }

    [Fact]
    public void Unreadable_entry_is_a_miss_and_is_dropped()
    {
        var store = new CacheStore(Path.Combine(_root, "store"), _clock);
        store.Publish(Stage(store, "x"), Entry(KeyA));
        File.WriteAllText(Path.Combine(store.Root, "entries", KeyA, "entry.json"), "{ not json");

        Assert.Null(store.TryOpen(KeyA));
        Assert.False(Directory.Exists(Path.Combine(store.Root, "entries", KeyA)));
    }

    [Fact]
    public async Task Export_then_import_reproduces_entries_with_files_and_internal_links()
    {
        var source = new CacheStore(Path.Combine(_root, "source"), _clock);
        var staged = Stage(source, "payload");
        Directory.CreateDirectory(Path.Combine(staged, "workspace", "node_modules", "dep"));
        File.WriteAllText(Path.Combine(staged, "workspace", "node_modules", "dep", "index.js"), "module.exports = 1;");
        File.CreateSymbolicLink(Path.Combine(staged, "workspace", "link.txt"), "out.txt");
        source.Publish(staged, Entry(KeyA));
        source.Publish(Stage(source, "other"), Entry(KeyB));
        var bundle = Path.Combine(_root, "bundle.tar.gz");

        Assert.Equal(2, await CacheBundle.ExportAsync(source, bundle, TestContext.Current.CancellationToken));
        var target = new CacheStore(Path.Combine(_root, "target"), _clock);
        Assert.Equal(2, await CacheBundle.ImportAsync(target, bundle, TestContext.Current.CancellationToken));
        Assert.Equal(0, await CacheBundle.ImportAsync(target, bundle, TestContext.Current.CancellationToken));

        using var lease = target.TryOpen(KeyA);
        Assert.NotNull(lease);
        var workspace = Path.Combine(lease.Directory, "workspace");
        Assert.Equal("payload", File.ReadAllText(Path.Combine(workspace, "out.txt")));
        Assert.Equal("module.exports = 1;", File.ReadAllText(Path.Combine(workspace, "node_modules", "dep", "index.js")));
        Assert.Equal("out.txt", new FileInfo(Path.Combine(workspace, "link.txt")).LinkTarget);
        Assert.Equal("demo", lease.Entry.Pipeline);
    }

    [Theory]
    [InlineData("traversal", "entries/KEY/../../../escaped.txt", "leaves its entry")]
    [InlineData("absolute", "/etc/harmont-escaped", "is not under entries/<key>/")]
    [InlineData("symlink-out", "entries/KEY/workspace/evil", "outside its entry")]
    [InlineData("symlink-absolute", "entries/KEY/workspace/evil", "outside its entry")]
    [InlineData("hardlink-out", "entries/KEY/workspace/evil", "outside its entry")]
    [InlineData("device", "entries/KEY/workspace/dev", "which a cache entry never holds")]
    [InlineData("bad-key", "entries/not-a-key/entry.json", "is not a cache key")]
    public async Task Import_rejects_a_hostile_bundle_naming_the_member_and_imports_nothing(string kind, string member, string why)
    {
        var bundle = Path.Combine(_root, $"{kind}.tar.gz");
        await WriteHostileBundleAsync(bundle, kind);
        var store = new CacheStore(Path.Combine(_root, "store"), _clock);

        var error = await Assert.ThrowsAsync<PipelineException>(() => CacheBundle.ImportAsync(store, bundle, TestContext.Current.CancellationToken));

        Assert.Contains($"'{member.Replace("KEY", KeyA, StringComparison.Ordinal)}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was imported", error.Message, StringComparison.Ordinal);
        Assert.Empty(store.List());
        Assert.False(File.Exists(Path.Combine(_root, "escaped.txt")));
        Assert.False(File.Exists("/etc/harmont-escaped"));
        Assert.Empty(Directory.Exists(Path.Combine(store.Root, "staging")) ? Directory.GetFileSystemEntries(Path.Combine(store.Root, "staging")) : []);
    }

    private const string KeyA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private const string KeyB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    private const string KeyC = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

    private static string Stage(CacheStore store, string content)
    {
        var staged = store.BeginEntry();
        Directory.CreateDirectory(Path.Combine(staged, "workspace"));
        File.WriteAllText(Path.Combine(staged, "workspace", "out.txt"), content);
        return staged;
    }

    private CacheEntry Entry(string key) => new() { Key = key, Pipeline = "demo", Step = "build", Created = _clock.GetUtcNow() };

    private static async Task WriteHostileBundleAsync(string path, string kind)
    {
        await using var file = File.Create(path);
        await using var compressed = CacheBundleFormat.Compress(file);
        await using var tar = new TarWriter(compressed, TarEntryFormat.Pax);
        var prefix = $"entries/{KeyA}/";
        await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, prefix), TestContext.Current.CancellationToken);
        var evil = kind switch
        {
            "traversal" => new PaxTarEntry(TarEntryType.RegularFile, prefix + "../../../escaped.txt") { DataStream = new MemoryStream("x"u8.ToArray()) },
            "absolute" => new PaxTarEntry(TarEntryType.RegularFile, "/etc/harmont-escaped") { DataStream = new MemoryStream("x"u8.ToArray()) },
            "symlink-out" => new PaxTarEntry(TarEntryType.SymbolicLink, prefix + "workspace/evil") { LinkName = "../../../../etc/passwd" },
            "symlink-absolute" => new PaxTarEntry(TarEntryType.SymbolicLink, prefix + "workspace/evil") { LinkName = "/etc/passwd" },
            "hardlink-out" => new PaxTarEntry(TarEntryType.HardLink, prefix + "workspace/evil") { LinkName = $"entries/{KeyB}/entry.json" },
            // /dev/null's numbers: only 0/0, an overlay whiteout, belongs in an entry.
            "device" => new PaxTarEntry(TarEntryType.CharacterDevice, prefix + "workspace/dev") { DeviceMajor = 1, DeviceMinor = 3 },
            "bad-key" => new PaxTarEntry(TarEntryType.RegularFile, "entries/not-a-key/entry.json") { DataStream = new MemoryStream("{}"u8.ToArray()) },
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        await tar.WriteEntryAsync(evil, TestContext.Current.CancellationToken);
    }
}
