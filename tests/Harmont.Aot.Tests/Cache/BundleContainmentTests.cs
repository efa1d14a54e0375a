using System.Text.Json;
using Harmont.Aot.Cache;
using Harmont.Aot.Model;
using TUnit.Assertions.Enums;
using static Harmont.Aot.Tests.Define;

namespace Harmont.Aot.Tests.Cache;

/// <summary>
/// Bundles and entry records are hostile (docs/workspaces.md, containment): nothing in one can make import, a run or a cache
/// command write, read or delete a path outside the cache directory.
/// </summary>
[NotInParallel(nameof(BundleContainmentTests))]
public sealed class BundleContainmentTests : IDisposable
{
    private const string Key = "abababababababababababababababababababababababababababababababab";
    private readonly RunHarness _harness = new();
    private readonly string _outside = Directory.CreateTempSubdirectory("harmont-outside-").FullName;

    public void Dispose()
    {
        _harness.Dispose();
        Directory.Delete(_outside, recursive: true);
    }

    [Test]
    public async Task A_rejected_bundle_writes_nothing_through_a_chain_of_links_it_made()
    {
        var bundle = new HostileBundle().Entry(Key).Chain($"entries/{Key}/workspace", 12)
            .File($"entries/{Key}/workspace/l11{_outside}/ESCAPED", "x")
            .File("entries/not-a-key/entry.json", "{}")
            .Write(Path.Combine(_harness.Root, "chain.tar.gz"));

        var import = await _harness.RunAsync([], ["cache", "import", bundle]);

        await BundleAssert.NothingImported(_harness, import);
        await Assert.That(Directory.GetFileSystemEntries(_outside)).IsEmpty();
    }

    [Test]
    public async Task A_hard_link_writes_nothing_through_a_chain_of_links_the_bundle_made()
    {
        var bundle = new HostileBundle().Entry(Key).Chain($"entries/{Key}/workspace", 12)
            .File($"entries/{Key}/workspace/payload", "x")
            .HardLink($"entries/{Key}/workspace/l11{_outside}/ESCAPED", $"entries/{Key}/workspace/payload")
            .Write(Path.Combine(_harness.Root, "hardlink.tar.gz"));

        var import = await _harness.RunAsync([], ["cache", "import", bundle]);

        await BundleAssert.NothingImported(_harness, import);
        await Assert.That(Directory.GetFileSystemEntries(_outside)).IsEmpty();
    }

    [Test]
    public async Task A_hard_link_reads_nothing_through_a_chain_of_links_the_bundle_made(CancellationToken cancellationToken)
    {
        await File.WriteAllTextAsync(Path.Combine(_outside, "secret.txt"), "secret", cancellationToken);
        var bundle = new HostileBundle().Entry(Key).Chain($"entries/{Key}/workspace", 12)
            .HardLink($"entries/{Key}/workspace/copied", $"entries/{Key}/workspace/l11{_outside}/secret.txt")
            .Write(Path.Combine(_harness.Root, "read.tar.gz"));

        var import = await _harness.RunAsync([], ["cache", "import", bundle]);

        await BundleAssert.NothingImported(_harness, import);
    }

    [Test]
    public async Task Links_that_climb_are_imported_as_links_and_sized_as_links()
    {
        var bundle = new HostileBundle().Entry(Key).Chain($"entries/{Key}/workspace", 12).Write(Path.Combine(_harness.Root, "links.tar.gz"));

        var import = await _harness.RunAsync([], ["cache", "import", bundle]);

        await Assert.That(import.ExitCode == 0).IsTrue().Because(import.ToString());
        var store = new CacheStore(_harness.Cache, TimeProvider.System);
        using var lease = store.TryOpen(Key);
        await Assert.That(lease).IsNotNull();
        await Assert.That(lease.Entry.Size).IsBetween(1, 64 * 1024);
        await Assert.That(new FileInfo(Path.Combine(lease.Directory, "workspace", "l11")).LinkTarget).IsEqualTo("l10/..");
    }

    [Test]
    public async Task An_absolute_link_is_imported_as_a_link_and_cleaned_without_touching_what_it_names(CancellationToken cancellationToken)
    {
        await File.WriteAllTextAsync(Path.Combine(_outside, "precious.txt"), "mine", cancellationToken);
        var bundle = new HostileBundle().Entry(Key)
            .Link($"entries/{Key}/workspace/outside", _outside).Link($"entries/{Key}/workspace/python", "/usr/bin/python3")
            .Write(Path.Combine(_harness.Root, "absolute.tar.zst"));

        var import = await _harness.RunAsync([], ["cache", "import", bundle]);
        var store = new CacheStore(_harness.Cache, TimeProvider.System);
        string? kept;
        using (var lease = store.TryOpen(Key))
        {
            kept = lease is null ? null : new FileInfo(Path.Combine(lease.Directory, "workspace", "outside")).LinkTarget;
        }

        var clean = await _harness.RunAsync([], ["cache", "clean"]);

        await Assert.That(import.ExitCode == 0).IsTrue().Because(import.ToString());
        await Assert.That(kept).IsEqualTo(_outside);
        await Assert.That(clean.ExitCode).IsEqualTo(0);
        await Assert.That(await File.ReadAllTextAsync(Path.Combine(_outside, "precious.txt"), cancellationToken)).IsEqualTo("mine");
    }

    [Test]
    [Arguments("file")]
    [Arguments("directory")]
    [Arguments("hard-link")]
    public async Task A_member_placed_through_an_absolute_link_rejects_the_bundle(string kind)
    {
        var bundle = new HostileBundle().Entry(Key).File($"entries/{Key}/workspace/payload", "x").Link($"entries/{Key}/workspace/out", _outside);
        var through = $"entries/{Key}/workspace/out/ESCAPED";
        _ = kind switch
        {
            "file" => bundle.File(through, "x"),
            "directory" => bundle.Dir(through),
            _ => bundle.HardLink(through, $"entries/{Key}/workspace/payload"),
        };

        var import = await _harness.RunAsync([], ["cache", "import", bundle.Write(Path.Combine(_harness.Root, $"{kind}.tar.zst"))]);

        await BundleAssert.NothingImported(_harness, import);
        await Assert.That(import.Error).Contains("beyond a link", StringComparison.Ordinal);
        await Assert.That(Directory.GetFileSystemEntries(_outside)).IsEmpty();
    }

    [Test]
    [Arguments("base-climbs-out")]
    [Arguments("base-uppercase")]
    [Arguments("key-climbs-out")]
    [Arguments("image-not-an-id")]
    [Arguments("strategy-unknown")]
    [Arguments("pipeline-with-newline")]
    [Arguments("step-empty")]
    [Arguments("size-negative")]
    [Arguments("format-2")]
    public async Task An_entry_record_with_a_hostile_field_rejects_the_bundle(string field,CancellationToken cancellationToken)
    {
        var victim = Directory.CreateDirectory(Path.Combine(_outside, "victim")).FullName;
        await File.WriteAllTextAsync(Path.Combine(victim, "precious.txt"), "mine", cancellationToken);
        var below = Path.GetRelativePath(Path.Combine(_harness.Cache, "entries"), victim);
        var record = HostileBundle.Record(Key, e => field switch
        {
            "base-climbs-out" => e with { Format = CacheEntry.LayeredFormat, Base = below, LayerStrategy = "overlay" },
            "base-uppercase" => e with { Format = CacheEntry.LayeredFormat, Base = Key.ToUpperInvariant(), LayerStrategy = "overlay" },
            "key-climbs-out" => e with { Key = below },
            "image-not-an-id" => e with { Image = "../../etc/passwd" },
            "strategy-unknown" => e with { Format = CacheEntry.LayeredFormat, Base = new string('c', 64), LayerStrategy = "../x" },
            "pipeline-with-newline" => e with { Pipeline = "ci\n\u001b[2Jfake" },
            "step-empty" => e with { Step = "" },
            "size-negative" => e with { ImageSize = -1 },
            "format-2" => e with { Format = 2, Base = below, LayerStrategy = "overlay" },
            _ => throw new ArgumentOutOfRangeException(nameof(field)),
        });
        var bundle = new HostileBundle().Entry(Key, record).Write(Path.Combine(_harness.Root, $"{field}.tar.gz"));

        var import = await _harness.RunAsync([], ["cache", "import", bundle]);
        var run = await _harness.RunAsync([], ["cache", "clean"]);

        await BundleAssert.NothingImported(_harness, import);
        await Assert.That(run.ExitCode).IsEqualTo(0);
        await Assert.That(await File.ReadAllTextAsync(Path.Combine(victim, "precious.txt"), cancellationToken)).IsEqualTo("mine");
    }

    [Test]
    public async Task A_cached_entry_whose_base_climbs_out_is_dropped_and_the_directory_it_names_survives(CancellationToken cancellationToken)
    {
        _harness.Env["HARMONT_WORKSPACE_STRATEGY"] = "copy";
        var pipeline = Pipeline("victim", Aot.Runner.Host, Cached("a", "echo a > a.txt", null, Forever()), Step("b", "cat a.txt", "a"));
        var first = await _harness.RunAsync(pipeline);
        await Assert.That(first.ExitCode == 0).IsTrue().Because(first.ToString());

        // An entry record another machine (or a bundle) wrote: its base names a directory outside the cache.
        var victim = Directory.CreateDirectory(Path.Combine(_outside, "victim")).FullName;
        await File.WriteAllTextAsync(Path.Combine(victim, "entry.json"), "not an entry", cancellationToken);
        var store = new CacheStore(_harness.Cache, TimeProvider.System);
        var entry = store.List().Single(l => l.Entry.Step == "a");
        var hostile = entry.Entry with
        {
            Format = CacheEntry.LayeredFormat,
            Base = Path.GetRelativePath(Path.Combine(_harness.Cache, "entries"), victim),
            LayerStrategy = "copy",
        };
        await File.WriteAllTextAsync(
            Path.Combine(entry.Directory, "entry.json"), JsonSerializer.Serialize(hostile, CacheJsonContext.Default.CacheEntry), cancellationToken);

        var second = await _harness.RunAsync(pipeline);

        await Assert.That(second.ExitCode == 0).IsTrue().Because(second.ToString());
        await Assert.That(second.Executed).IsEquivalentTo((IEnumerable<string>)["a", "b"], CollectionOrdering.Matching);
        await Assert.That(await File.ReadAllTextAsync(Path.Combine(victim, "entry.json"), cancellationToken)).IsEqualTo("not an entry");
    }

    [Test]
    public async Task Cache_clean_never_removes_a_directory_an_entry_record_names_as_its_key(CancellationToken cancellationToken)
    {
        var victim = Directory.CreateDirectory(Path.Combine(_outside, "victim")).FullName;
        await File.WriteAllTextAsync(Path.Combine(victim, "precious.txt"), "mine", cancellationToken);
        var entry = Directory.CreateDirectory(Path.Combine(_harness.Cache, "entries", Key)).FullName;
        await File.WriteAllTextAsync(
            Path.Combine(entry, "entry.json"),
            HostileBundle.Record(Key, e => e with { Key = Path.GetRelativePath(Path.Combine(_harness.Cache, "entries"), victim) }),
            cancellationToken);

        var ls = await _harness.RunAsync([], ["cache", "ls"]);
        var clean = await _harness.RunAsync([], ["cache", "clean"]);

        await Assert.That(ls.ExitCode).IsEqualTo(0);
        await Assert.That(ls.Output).Contains("0 entries", StringComparison.Ordinal);
        await Assert.That(clean.ExitCode).IsEqualTo(0);
        await Assert.That(await File.ReadAllTextAsync(Path.Combine(victim, "precious.txt"), cancellationToken)).IsEqualTo("mine");
    }
}
