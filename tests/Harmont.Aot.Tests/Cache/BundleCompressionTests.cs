using System.IO.Compression;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using Harmont.Aot.Cache;
using SharpCompress.Compressors.ZStandard;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests.Cache;

/// <summary>
/// A bundle is a checksummed zstd stream of PAX tar members that standard tools read; its compression is told by
/// its first bytes, never its name, so older gzip bundles still import; a cut-short, damaged or foreign stream is
/// a one-line usage error that imports nothing.
/// </summary>
[SupportedOSPlatform("linux")]
[NotInParallel(nameof(BundleCompressionTests))]
public sealed class BundleCompressionTests : IDisposable
{
    private const string Key = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Test]
    public async Task Export_writes_a_checksummed_zstd_stream_that_zstd_and_tar_read(CancellationToken cancellationToken)
    {
        await Publish();
        var bundle = Path.Combine(_harness.Root, "cache" + CacheBundleFormat.Extension);

        var export = await _harness.RunAsync([], ["cache", "export", bundle]);
        var test = await Exec.RunAsync("zstd", ["--test", bundle], _harness.Root, cancellationToken);
        var list = await Exec.RunAsync("tar", ["--zstd", "-tvf", bundle], _harness.Root, cancellationToken);

        await Assert.That(export.ExitCode == 0).IsTrue().Because(export.ToString());
        var head = (await File.ReadAllBytesAsync(bundle, cancellationToken))[..5];
        await Assert.That(head[..4]).IsEquivalentTo((IEnumerable<byte>)[0x28, 0xb5, 0x2f, 0xfd], CollectionOrdering.Matching);
        await Assert.That((head[4] & 0x04) != 0).IsTrue().Because("the frame header does not ask for a content checksum");
        await Assert.That(test.ExitCode == 0).IsTrue().Because(test.Output);
        await Assert.That(list.ExitCode == 0).IsTrue().Because(list.Output);
        await Assert.That(list.Output).Matches($@"-rwxr-x--- .* entries/{Key}/workspace/tool");
        await Assert.That(list.Output).Matches($@"lrwxrwxrwx .* entries/{Key}/workspace/link -> data");
    }

    [Test]
    public async Task A_gzipped_bundle_from_an_older_runner_still_imports_whatever_its_name_says(CancellationToken cancellationToken)
    {
        var before = await Publish();
        var bundle = Path.Combine(_harness.Root, "cache" + CacheBundleFormat.Extension);
        await Assert.That((await _harness.RunAsync([], ["cache", "export", bundle])).ExitCode).IsEqualTo(0);

        // The tar inside, gzipped as bundles were before zstd, and named as if it were zstd; then the zstd one named .tgz.
        var legacy = Path.Combine(_harness.Root, "legacy.tar.zst");
        await using (var zstd = new DecompressionStream(File.OpenRead(bundle), leaveOpen: false))
        await using (var gzip = new GZipStream(File.Create(legacy), CompressionLevel.Fastest))
        {
            await zstd.CopyToAsync(gzip, cancellationToken);
        }

        var renamed = Path.Combine(_harness.Root, "cache.tgz");
        File.Move(bundle, renamed);

        await _harness.RunAsync([], ["cache", "clean"]);
        var fromGzip = await _harness.RunAsync([], ["cache", "import", legacy]);
        var afterGzip = Snapshot();
        await _harness.RunAsync([], ["cache", "clean"]);
        var fromZstd = await _harness.RunAsync([], ["cache", "import", renamed]);

        await Assert.That(fromGzip.ExitCode == 0).IsTrue().Because(fromGzip.ToString());
        await Assert.That(fromGzip.Output).Contains("imported 1 entries", StringComparison.Ordinal);
        await Assert.That(afterGzip).IsEquivalentTo(before, CollectionOrdering.Matching);
        await Assert.That(fromZstd.ExitCode == 0).IsTrue().Because(fromZstd.ToString());
        await Assert.That(Snapshot()).IsEquivalentTo(before, CollectionOrdering.Matching);
    }

    [Test]
    public async Task A_bundle_read_from_a_pipe_imports(CancellationToken cancellationToken)
    {
        var before = await Publish();
        var bundle = Path.Combine(_harness.Root, "cache.tar.zst");
        await Assert.That((await _harness.RunAsync([], ["cache", "export", bundle])).ExitCode).IsEqualTo(0);
        await _harness.RunAsync([], ["cache", "clean"]);
        var pipe = Path.Combine(_harness.Root, "pipe");
        await Assert.That((await Exec.RunAsync("mkfifo", [pipe], _harness.Root, cancellationToken)).ExitCode).IsEqualTo(0);

        // The writer blocks until the import opens the pipe; a fifo cannot seek back over the bytes sniffed from it.
        var writer = Task.Run(() => File.WriteAllBytes(pipe, File.ReadAllBytes(bundle)), cancellationToken);
        var import = await _harness.RunAsync([], ["cache", "import", pipe]);
        if (!writer.IsCompleted)
        {
            await using var drain = File.OpenRead(pipe);
            await drain.CopyToAsync(Stream.Null, cancellationToken);
        }

        await writer;
        await Assert.That(import.ExitCode == 0).IsTrue().Because(import.ToString());
        await Assert.That(Snapshot()).IsEquivalentTo(before, CollectionOrdering.Matching);
    }

    [Test]
    [Arguments("cut-in-half", "ends early")]
    [Arguments("cut-before-its-checksum", "ends early")]
    [Arguments("magic-only", "ends early")]
    [Arguments("three-bytes", "ends early")]
    [Arguments("flipped-stored-byte", "doesn't match checksum")]
    [Arguments("trailing-garbage", "damaged")]
    [Arguments("random-bytes", "not a zstd-compressed tar")]
    [Arguments("zstd-of-random-bytes", "damaged")]
    [Arguments("window-past-8-mib", "too much memory")]
    public async Task A_cut_short_damaged_or_foreign_stream_is_refused_and_imports_nothing(string kind, string says,CancellationToken cancellationToken)
    {
        await Publish();
        var bundle = Path.Combine(_harness.Root, "cache.tar.zst");
        await Assert.That((await _harness.RunAsync([], ["cache", "export", bundle])).ExitCode).IsEqualTo(0);
        await _harness.RunAsync([], ["cache", "clean"]);
        var bytes = await File.ReadAllBytesAsync(bundle, cancellationToken);
        var random = RandomBytes(100_000);
        byte[] mangled = kind switch
        {
            "cut-in-half" => bytes[..(bytes.Length / 2)],
            "cut-before-its-checksum" => bytes[..^4],
            "magic-only" => bytes[..4],
            "three-bytes" => bytes[..3],

            // The entry's data is incompressible, so the middle of the stream is stored bytes only the checksum covers.
            "flipped-stored-byte" => Flip(bytes, bytes.Length / 2),
            "trailing-garbage" => [.. bytes, .. "not zstd"u8],
            "random-bytes" => random,
            "zstd-of-random-bytes" => Zstd(random),

            // A whole, valid entry, in a frame asking for a 16 MiB window: more than export ever needs.
            "window-past-8-mib" => new ZstdFrame(windowLog: 24).Raw(await DecompressAsync(bundle)).ToArray(),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        await File.WriteAllBytesAsync(bundle, mangled, cancellationToken);

        var import = await _harness.RunAsync([], ["cache", "import", bundle]);

        await BundleAssert.NothingImported(_harness, import);
        await Assert.That(import.Error).Contains(says, StringComparison.Ordinal);
    }

    // An entry with incompressible data, an executable with its own mode, and a link: what every bundle must carry.
    private async Task<List<string>> Publish()
    {
        var store = new CacheStore(_harness.Cache, TimeProvider.System);
        var staged = store.BeginEntry();
        var workspace = Directory.CreateDirectory(Path.Combine(staged, "workspace")).FullName;
        File.WriteAllBytes(Path.Combine(workspace, "data"), RandomBytes(300_000));
        File.WriteAllText(Path.Combine(workspace, "tool"), "#!/bin/sh\n");
        File.SetUnixFileMode(Path.Combine(workspace, "tool"), (UnixFileMode)0x1e8); // 0750
        File.CreateSymbolicLink(Path.Combine(workspace, "link"), "data");
        await Assert.That(store.Publish(staged, new CacheEntry { Key = Key, Pipeline = "ci", Step = "deps", Created = DateTimeOffset.UtcNow }))
            .IsTrue();
        return Snapshot();
    }

    private List<string> Snapshot()
    {
        var workspace = Path.Combine(_harness.Cache, "entries", Key, "workspace");
        return Directory.Exists(workspace)
            ? [.. new DirectoryInfo(workspace).EnumerateFileSystemInfos().OrderBy(i => i.Name, StringComparer.Ordinal)
                .Select(i => $"{i.Name} {i.UnixFileMode} {i.LinkTarget ?? Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(i.FullName)))}")]
            : [];
    }

    private static async Task<byte[]> DecompressAsync(string bundle)
    {
        await using var zstd = new DecompressionStream(File.OpenRead(bundle), leaveOpen: false);
        using var tar = new MemoryStream();
        await zstd.CopyToAsync(tar, TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
        return tar.ToArray();
    }

    private static byte[] Zstd(byte[] content)
    {
        var output = new MemoryStream();
        using (var zstd = CacheBundleFormat.Compress(output))
        {
            zstd.Write(content);
        }

        return output.ToArray(); // A MemoryStream hands out its bytes even once closed.
    }

    private static byte[] Flip(byte[] bytes, int at)
    {
        var copy = (byte[])bytes.Clone();
        copy[at] ^= 0x40;
        return copy;
    }

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        new Random(count).NextBytes(bytes);
        return bytes;
    }
}
