namespace Harmont.Aot.Tests.Cache;

/// <summary>
/// zstd bombs: bundles of a few hundred KiB that unpack to gigabytes. Whatever the gigabytes pretend to be (a
/// metadata block, padding after the archive, file data), the import refuses them in one line, having read no
/// more than it needs to tell, and the cache is left as it was.
/// </summary>
[NotInParallel(nameof(BundleBombTests))]
public sealed class BundleBombTests : IDisposable
{
    private const string Key = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0";
    private const long Gigabytes = 3L << 30;
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    private string BundlePath => Path.Combine(_harness.Root, "bomb.tar.zst");

    [Test]
    [Arguments('x')]
    [Arguments('g')]
    [Arguments('L')]
    [Arguments('K')]
    public async Task A_metadata_header_claiming_a_gigabyte_is_refused_before_its_block_is_read(char type,CancellationToken cancellationToken)
    {
        // System.Formats.Tar would allocate the claimed size and read it whole: 1.5 GiB from a 50 KiB bundle.
        const long claimed = 3L << 29;
        var frame = new ZstdFrame().Raw(EntryMembers()).Raw(ZstdFrame.TarHeader(type, "././@LongLink", claimed)).Run(claimed).Run(1024);
        await File.WriteAllBytesAsync(BundlePath, frame.ToArray(), cancellationToken);

        var import = await _harness.RunAsync([], ["cache", "import", BundlePath]);

        await BundleAssert.NothingImported(_harness, import);
        await Assert.That(import.Error).Contains($"a '{type}' header claims a {claimed}-byte metadata block", StringComparison.Ordinal);
        await Assert.That(new FileInfo(BundlePath).Length < 64 * 1024).IsTrue();
    }

    [Test]
    public async Task A_pax_header_followed_by_another_metadata_header_is_refused(CancellationToken cancellationToken)
    {
        // The PAX header's size record would apply to the long-name block after it, past what its own header says.
        var pax = "19 size=1610612736\n"u8.ToArray();
        var frame = new ZstdFrame().Raw(EntryMembers())
            .Raw(ZstdFrame.TarHeader('x', "PaxHeaders/bomb", pax.Length)).Raw([.. pax, .. new byte[512 - pax.Length]])
            .Raw(ZstdFrame.TarHeader('L', "././@LongLink", 100)).Run(512).Run(Gigabytes);
        await File.WriteAllBytesAsync(BundlePath, frame.ToArray(), cancellationToken);

        var import = await _harness.RunAsync([], ["cache", "import", BundlePath]);

        await BundleAssert.NothingImported(_harness, import);
        await Assert.That(import.Error).Contains("a PAX extended header is followed by a 'L' header", StringComparison.Ordinal);
    }

    [Test]
    public async Task Gigabytes_of_zeros_after_the_archive_are_refused_after_a_mebibyte(CancellationToken cancellationToken)
    {
        var frame = new ZstdFrame().Raw(EntryMembers()).Run(1024).Run(Gigabytes);
        await File.WriteAllBytesAsync(BundlePath, frame.ToArray(), cancellationToken);

        var import = await _harness.RunAsync([], ["cache", "import", BundlePath]);

        await BundleAssert.NothingImported(_harness, import);
        await Assert.That(import.Error).Contains("holds data after the end of its archive", StringComparison.Ordinal);
    }

    [Test]
    [Property("Requires", "root")]
    public async Task Files_of_zeros_that_would_fill_the_cache_filesystem_are_refused_and_leave_it_empty(CancellationToken cancellationToken)
    {
        // 64 files of 24 MiB, each within the budget alone, 1.5 GiB together, against a cache on a 64 MiB tmpfs.
        const long file = 24 << 20;
        var frame = new ZstdFrame().Raw(EntryMembers());
        for (var i = 0; i < 64; i++)
        {
            frame.Raw(ZstdFrame.TarHeader('0', $"entries/{Key}/workspace/zeros{i}", file)).Run(file);
        }

        await File.WriteAllBytesAsync(BundlePath, frame.Run(1024).ToArray(), cancellationToken);
        Directory.CreateDirectory(_harness.Cache);
        var (mounted, output) = await Exec.RunAsync("mount", ["-t", "tmpfs", "-o", "size=64m", "tmpfs", _harness.Cache], "/", cancellationToken);
        await Assert.That(mounted == 0).IsTrue().Because($"mount -t tmpfs failed (this test needs root): {output}");
        try
        {
            var import = await _harness.RunAsync([], ["cache", "import", BundlePath]);

            await BundleAssert.NothingImported(_harness, import);
            await Assert.That(import.Error).Contains($"declares {file} bytes, more than the", StringComparison.Ordinal);
            var drive = new DriveInfo(_harness.Cache);
            await Assert.That(drive.TotalSize - drive.AvailableFreeSpace < 1 << 20)
                .IsTrue()
                .Because($"{drive.TotalSize - drive.AvailableFreeSpace} bytes still used");
        }
        finally
        {
            await Exec.RunAsync("umount", [_harness.Cache], "/", CancellationToken.None);
        }
    }

    // A whole entry's members, without the end-of-archive marker, so more members can follow.
    private static byte[] EntryMembers() => new HostileBundle().Entry(Key).TarBytes()[..^1024];
}
