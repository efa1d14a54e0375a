using System.Formats.Tar;
using Harmont.Aot.Cache;
using Harmont.Aot.Model;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

[NotInParallel(nameof(CacheStoreTests))]
public sealed class CacheStoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harmont-cache-").FullName;
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Test]
    public async Task Published_entry_appears_whole_and_the_first_writer_wins()
    {
        var store = new CacheStore(Path.Combine(_root, "store"), _clock);
        var first = Stage(store, "first");
        var second = Stage(store, "second");

        await Assert.That(store.Publish(first, Entry(KeyA))).IsTrue();
        await Assert.That(store.Publish(second, Entry(KeyA))).IsFalse();

        using var lease = store.TryOpen(KeyA);
        await Assert.That(lease).IsNotNull();
        await Assert.That(File.ReadAllText(Path.Combine(lease.Directory, "workspace", "out.txt"))).IsEqualTo("first");
        await Assert.That(lease.Entry.Size).IsEqualTo(5);
        await Assert.That(Directory.Exists(second)).IsFalse();
        await Assert.That(store.TryOpen(KeyB)).IsNull();
    }

    [Test]
    public async Task Eviction_removes_least_recently_used_first_and_never_an_entry_in_use()
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
            var evicted = store.EvictToFit(0).Entries;

            // A and B are open: only C can go, however much the bound asks for.
            await Assert.That(evicted.Select(e => e.Entry.Key)).IsEquivalentTo((IEnumerable<string>)[KeyC], CollectionOrdering.Matching);
        }

        await Assert.That(store.EvictToFit(1500).Entries.Select(e => e.Entry.Key)).IsEquivalentTo((IEnumerable<string>)[KeyA], CollectionOrdering.Matching);
        await Assert.That(store.List().Select(l => l.Entry.Key)).IsEquivalentTo((IEnumerable<string>)[KeyB], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Evicting_an_entry_takes_the_entries_layered_on_it_which_could_never_hit_again()
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

        var evicted = store.EvictToFit(500).Entries;

        await Assert.That(evicted.Select(e => e.Entry.Key)).IsEquivalentTo((IEnumerable<string>)[KeyA, KeyB, KeyC], CollectionOrdering.Matching);
        await Assert.That(store.List()).IsEmpty();
    }

    [Test]
    public async Task Prune_removes_entries_unused_for_longer_than_the_age()
    {
        var store = new CacheStore(Path.Combine(_root, "store"), _clock);
        store.Publish(Stage(store, "old"), Entry(KeyA));
        _clock.Advance(TimeSpan.FromDays(8));
        store.Publish(Stage(store, "new"), Entry(KeyB));

        var pruned = store.Prune(TimeSpan.FromDays(7));

        await Assert.That(pruned.Select(p => p.Entry.Key)).IsEquivalentTo((IEnumerable<string>)[KeyA], CollectionOrdering.Matching);
        await Assert.That(store.List().Select(l => l.Entry.Key)).IsEquivalentTo((IEnumerable<string>)[KeyB], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Unreadable_entry_is_a_miss_and_is_dropped()
    {
        var store = new CacheStore(Path.Combine(_root, "store"), _clock);
        store.Publish(Stage(store, "x"), Entry(KeyA));
        File.WriteAllText(Path.Combine(store.Root, "entries", KeyA, "entry.json"), "{ not json");

        await Assert.That(store.TryOpen(KeyA)).IsNull();
        await Assert.That(Directory.Exists(Path.Combine(store.Root, "entries", KeyA))).IsFalse();
    }

    [Test]
    public async Task Export_then_import_reproduces_entries_with_files_and_links_whatever_they_name(CancellationToken cancellationToken)
    {
        var source = new CacheStore(Path.Combine(_root, "source"), _clock);
        var staged = Stage(source, "payload");
        Directory.CreateDirectory(Path.Combine(staged, "workspace", "node_modules", "dep"));
        File.WriteAllText(Path.Combine(staged, "workspace", "node_modules", "dep", "index.js"), "module.exports = 1;");
        File.CreateSymbolicLink(Path.Combine(staged, "workspace", "link.txt"), "out.txt");

        // A venv's interpreter, a link to nothing, one that climbs out: data, carried as links.
        (string Name, string Points)[] links = [("python", "/usr/bin/python3"), ("dangling", "/nowhere/at/all"), ("up", "../../../../etc")];
        foreach (var (name, points) in links)
        {
            File.CreateSymbolicLink(Path.Combine(staged, "workspace", "node_modules", name), points);
        }
        source.Publish(staged, Entry(KeyA));
        source.Publish(Stage(source, "other"), Entry(KeyB));
        var bundle = Path.Combine(_root, "bundle.tar.gz");

        await Assert.That(await CacheBundle.ExportAsync(source, bundle, cancellationToken)).IsEqualTo(2);
        var target = new CacheStore(Path.Combine(_root, "target"), _clock);
        await Assert.That(await CacheBundle.ImportAsync(target, bundle, cancellationToken)).IsEqualTo(2);
        await Assert.That(await CacheBundle.ImportAsync(target, bundle, cancellationToken)).IsEqualTo(0);

        using var lease = target.TryOpen(KeyA);
        await Assert.That(lease).IsNotNull();
        var workspace = Path.Combine(lease.Directory, "workspace");
        await Assert.That(File.ReadAllText(Path.Combine(workspace, "out.txt"))).IsEqualTo("payload");
        await Assert.That(File.ReadAllText(Path.Combine(workspace, "node_modules", "dep", "index.js"))).IsEqualTo("module.exports = 1;");
        await Assert.That(new FileInfo(Path.Combine(workspace, "link.txt")).LinkTarget).IsEqualTo("out.txt");
        foreach (var (name, points) in links)
        {
            await Assert.That(new FileInfo(Path.Combine(workspace, "node_modules", name)).LinkTarget).IsEqualTo(points);
        }

        await Assert.That(lease.Entry.Pipeline).IsEqualTo("demo");
    }

    [Test]
    public async Task An_empty_store_exports_a_bundle_that_imports(CancellationToken cancellationToken)
    {
        var bundle = Path.Combine(_root, "empty.tar.zst");

        await Assert.That(await CacheBundle.ExportAsync(new CacheStore(Path.Combine(_root, "source"), _clock), bundle, cancellationToken)).IsEqualTo(0);
        await Assert.That(await CacheBundle.ImportAsync(new CacheStore(Path.Combine(_root, "target"), _clock), bundle, cancellationToken)).IsEqualTo(0);
    }

    [Test]
    [Arguments("traversal", "entries/KEY/../../../escaped.txt", "leaves its entry")]
    [Arguments("absolute", "/etc/harmont-escaped", "is not under entries/<key>/")]
    [Arguments("hardlink-out", "entries/KEY/workspace/evil", "outside its entry")]
    [Arguments("device", "entries/KEY/workspace/dev", "which a cache entry never holds")]
    [Arguments("bad-key", "entries/not-a-key/entry.json", "is not a cache key")]
    public async Task Import_rejects_a_hostile_bundle_naming_the_member_and_imports_nothing(string kind, string member, string why,CancellationToken cancellationToken)
    {
        var bundle = Path.Combine(_root, $"{kind}.tar.gz");
        await WriteHostileBundleAsync(bundle, kind);
        var store = new CacheStore(Path.Combine(_root, "store"), _clock);

        var error = (await Assert.That(async () => await CacheBundle.ImportAsync(store, bundle, cancellationToken)).ThrowsExactly<PipelineException>())!;

        await Assert.That(error.Message).Contains($"'{member.Replace("KEY", KeyA, StringComparison.Ordinal)}'", StringComparison.Ordinal);
        await Assert.That(error.Message).Contains(why, StringComparison.Ordinal);
        await Assert.That(error.Message).Contains("nothing was imported", StringComparison.Ordinal);
        await Assert.That(store.List()).IsEmpty();
        await Assert.That(File.Exists(Path.Combine(_root, "escaped.txt"))).IsFalse();
        await Assert.That(File.Exists("/etc/harmont-escaped")).IsFalse();
        await Assert.That(Directory.Exists(Path.Combine(store.Root, "staging")) ? Directory.GetFileSystemEntries(Path.Combine(store.Root, "staging")) : [])
            .IsEmpty();
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
        await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, prefix), TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
        var evil = kind switch
        {
            "traversal" => new PaxTarEntry(TarEntryType.RegularFile, prefix + "../../../escaped.txt") { DataStream = new MemoryStream("x"u8.ToArray()) },
            "absolute" => new PaxTarEntry(TarEntryType.RegularFile, "/etc/harmont-escaped") { DataStream = new MemoryStream("x"u8.ToArray()) },
            "hardlink-out" => new PaxTarEntry(TarEntryType.HardLink, prefix + "workspace/evil") { LinkName = $"entries/{KeyB}/entry.json" },
            // /dev/null's numbers: only 0/0, an overlay whiteout, belongs in an entry.
            "device" => new PaxTarEntry(TarEntryType.CharacterDevice, prefix + "workspace/dev") { DeviceMajor = 1, DeviceMinor = 3 },
            "bad-key" => new PaxTarEntry(TarEntryType.RegularFile, "entries/not-a-key/entry.json") { DataStream = new MemoryStream("{}"u8.ToArray()) },
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        await tar.WriteEntryAsync(evil, TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
    }
}
