using Harmont.Aot.Cache;
using Harmont.Aot.Containment;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests.Cache;

/// <summary>
/// Damaged bundles and unwritable export targets are the user's input, not a crash: exit 2 and one line
/// naming the problem and the fix; an import adds nothing and an export leaves no partial bundle.
/// </summary>
[NotInParallel(nameof(BundleInputTests))]
public sealed class BundleInputTests : IDisposable
{
    private const string Key = "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd";
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Test]
    [Arguments("duplicate", "appears twice")]
    [Arguments("truncated", "ends early")]
    [Arguments("cut-at-a-member", "ends early")]
    [Arguments("empty-zstd", "ends early")]
    [Arguments("zero-bytes", "ends early")]
    [Arguments("gnu-sparse", "SparseFile")]
    [Arguments("pax-sparse", "is a sparse file")]
    [Arguments("one-tebibyte", "declares 1099511627776 bytes")]
    [Arguments("corrupt-zstd", "damaged")]
    [Arguments("bad-name-record", "not base64")]
    public async Task A_damaged_bundle_is_a_one_line_usage_error_and_imports_nothing(string kind, string says,CancellationToken cancellationToken)
    {
        var path = Path.Combine(_harness.Root, $"{kind}.tar.gz");
        var valid = new HostileBundle().Entry(Key).File($"entries/{Key}/workspace/data", RandomBytes(200_000));
        switch (kind)
        {
            case "duplicate":
                valid.File($"entries/{Key}/workspace/data", "again").Write(path);
                break;
            case "truncated":
                valid.Write(path, tar => tar[..(tar.Length / 2)]);
                break;
            case "cut-at-a-member":
                valid.Write(path, tar => tar[..(tar.Length - 1024)]);
                break;
            case "empty-zstd":
                HostileBundle.WriteCompressed(path, []);
                break;
            case "zero-bytes":
                await File.WriteAllBytesAsync(path, [], cancellationToken);
                break;
            case "gnu-sparse":
                HostileBundle.WriteCompressed(path, HostileBundle.RawMember($"entries/{Key}/workspace/s", new byte[10], h => h[156] = (byte)'S'));
                break;
            case "pax-sparse":
                new HostileBundle().File($"entries/{Key}/workspace/s", new byte[10], new Dictionary<string, string> { ["GNU.sparse.major"] = "1", ["GNU.sparse.minor"] = "0" }).Write(path);
                break;
            case "one-tebibyte":
                // A size header of 2^40 in GNU base-256, over three real bytes: nothing may be allocated from it.
                HostileBundle.WriteCompressed(path, HostileBundle.RawMember($"entries/{Key}/workspace/big", new byte[3], h =>
                {
                    h.AsSpan(124, 12).Clear();
                    h[124] = 0x80;
                    h[130] = 0x01;
                }));
                break;
            case "corrupt-zstd":
                // Damage in transit: zstd's checksum finds it (System.Formats.Tar checks no header checksum).
                valid.Write(path);
                var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
                bytes[bytes.Length / 2] ^= 0x40;
                await File.WriteAllBytesAsync(path, bytes, cancellationToken);
                break;
            case "bad-name-record":
                new HostileBundle().File($"entries/{Key}/workspace/x", new byte[1], new Dictionary<string, string> { ["HARMONT.path"] = "not base64!" }).Write(path);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }

        var import = await _harness.RunAsync([], ["cache", "import", path]);

        await BundleAssert.NothingImported(_harness, import);
        await Assert.That(import.Error).Contains(says, StringComparison.Ordinal);
    }

    [Test]
    public async Task Export_into_a_directory_that_does_not_exist_is_a_one_line_usage_error()
    {
        var missing = Path.Combine(_harness.Root, "no-such-dir", "cache.tar.gz");

        var export = await _harness.RunAsync([], ["cache", "export", missing]);

        await BundleAssert.OneLineUsageError(export);
        await Assert.That(export.Error).Contains("does not exist", StringComparison.Ordinal);
        await Assert.That(Directory.Exists(Path.GetDirectoryName(missing))).IsFalse();
    }

    [Test]
    [Property("Requires", "root")]
    public async Task Export_onto_a_read_only_filesystem_is_a_one_line_usage_error_that_writes_nothing()
    {
        Publish(1024);
        await using var mount = await Tmpfs.MountAsync(Path.Combine(_harness.Root, "ro"), "ro,size=1m");

        var export = await _harness.RunAsync([], ["cache", "export", Path.Combine(mount.Path, "cache.tar.gz")]);

        await BundleAssert.OneLineUsageError(export);
        await Assert.That(export.Error).Contains("Read-only file system", StringComparison.Ordinal);
        await Assert.That(Directory.GetFileSystemEntries(mount.Path)).IsEmpty();
    }

    [Test]
    [Property("Requires", "root")]
    public async Task An_export_that_runs_out_of_space_leaves_the_old_bundle_whole_and_no_partial_file(CancellationToken cancellationToken)
    {
        Publish(2 << 20);
        await using var mount = await Tmpfs.MountAsync(Path.Combine(_harness.Root, "small"), "size=256k");
        var target = Path.Combine(mount.Path, "cache.tar.gz");
        await File.WriteAllTextAsync(target, "the bundle from yesterday", cancellationToken);

        var export = await _harness.RunAsync([], ["cache", "export", target]);

        await BundleAssert.OneLineUsageError(export);
        await Assert.That(export.Error).Contains("No space left", StringComparison.Ordinal);
        await Assert.That(Directory.GetFileSystemEntries(mount.Path)).IsEquivalentTo((IEnumerable<string>)[target], CollectionOrdering.Matching);
        await Assert.That(await File.ReadAllTextAsync(target, cancellationToken)).IsEqualTo("the bundle from yesterday");
    }

    [Test]
    public async Task Export_leaves_out_entries_an_import_would_refuse_so_the_bundle_stays_importable(CancellationToken cancellationToken)
    {
        Publish(10);
        var old = Directory.CreateDirectory(Path.Combine(_harness.Cache, "entries", new string('1', 64))).FullName;
        await File.WriteAllTextAsync(Path.Combine(old, "entry.json"), HostileBundle.Record(new string('1', 64), e => e with { Format = 2 }), cancellationToken);
        var broken = Directory.CreateDirectory(Path.Combine(_harness.Cache, "entries", new string('2', 64))).FullName;
        await File.WriteAllTextAsync(Path.Combine(broken, "entry.json"), HostileBundle.Record(new string('2', 64)), cancellationToken);
        var bundle = Path.Combine(_harness.Root, "cache.tar.gz");

        var export = await _harness.RunAsync([], ["cache", "export", bundle]);
        HostileTree.Delete(_harness.Cache);
        var import = await _harness.RunAsync([], ["cache", "import", bundle]);

        await Assert.That(export.ExitCode == 0).IsTrue().Because(export.ToString());
        await Assert.That(export.Output).Contains("exported 1 entries", StringComparison.Ordinal);
        await Assert.That(import.ExitCode == 0).IsTrue().Because(import.ToString());
        await Assert.That(import.Output).Contains("imported 1 entries", StringComparison.Ordinal);
    }

    private void Publish(int bytes)
    {
        var store = new CacheStore(_harness.Cache, TimeProvider.System);
        var staged = store.BeginEntry();
        Directory.CreateDirectory(Path.Combine(staged, "workspace"));
        File.WriteAllBytes(Path.Combine(staged, "workspace", "data"), RandomBytes(bytes));
        store.Publish(staged, new CacheEntry { Key = Key, Pipeline = "ci", Step = "deps", Created = DateTimeOffset.UtcNow });
    }

    // Incompressible, so the bundle is as large as the entry.
    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        new Random(count).NextBytes(bytes);
        return bytes;
    }

    /// <summary>A tmpfs mounted for one test (root only), unmounted when disposed.</summary>
    private sealed class Tmpfs : IAsyncDisposable
    {
        private Tmpfs(string path) => Path = path;

        public string Path { get; }

        public static async Task<Tmpfs> MountAsync(string path, string options)
        {
            Directory.CreateDirectory(path);
            var (exit, output) = await Exec.RunAsync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", path], "/", CancellationToken.None);
            await Assert.That(exit == 0).IsTrue().Because($"mount -t tmpfs -o {options} failed (these tests need root): {output}");
            return new Tmpfs(path);
        }

        public async ValueTask DisposeAsync() => await Exec.RunAsync("umount", [Path], "/", CancellationToken.None);
    }
}
