using System.Runtime.Versioning;
using Harmont.Aot.Native.Linux;
using Harmont.Aot.Workspaces;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests.Workspaces;

/// <summary>The reflink strategy on a real reflink-capable XFS: data is shared, not copied, and stays isolated.</summary>
[Property("Requires", "root")]
[SupportedOSPlatform("linux")]
[NotInParallel(nameof(ReflinkOnXfsTests))]
[ClassDataSource<XfsLoopMount>(Shared = SharedType.PerTestSession)]
public sealed class ReflinkOnXfsTests(XfsLoopMount xfs)
{

    [Test]
    public async Task Reflink_clone_shares_every_extent_with_its_source(CancellationToken cancellationToken)
    {
        var source = xfs.NewDirectory("source");
        var random = new Random(1);
        foreach (var (name, size) in new[] { ("small.bin", 5_000), ("nested/mid.bin", 300_000), ("nested/deeper/big.bin", 4 << 20) })
        {
            var bytes = new byte[size];
            random.NextBytes(bytes);
            Trees.WriteBytes(source, name, bytes);
        }

        var strategy = new ReflinkStrategy();
        var clone = Path.Combine(xfs.NewDirectory("clones"), "ws");
        await strategy.CloneTreeAsync(source, clone, cancellationToken);

        await Assert.That(Trees.Read(clone)).IsEquivalentTo(Trees.Read(source), CollectionOrdering.Any);
        await Assert.That(strategy.Counters.ReflinkedFiles).IsEqualTo(3);
        await Assert.That(strategy.Counters.CopiedFiles).IsEqualTo(0);
        foreach (var file in Directory.EnumerateFiles(clone, "*", SearchOption.AllDirectories))
        {
            await Assert.That(await Trees.AllExtentsShared(file)).IsTrue().Because($"{file} does not share its extents");
            await Assert.That(await Trees.AllExtentsShared(Path.Combine(source, Path.GetRelativePath(clone, file)))).IsTrue();
        }

        // The same fact from outside our own FIEMAP code: filefrag marks the extents shared.
        var filefrag = await Exec.RunAsync("filefrag", ["-v", Path.Combine(clone, "nested/deeper/big.bin")], clone, cancellationToken);
        await Assert.That(filefrag.ExitCode).IsEqualTo(0);
        await Assert.That(filefrag.Output).Contains("shared", StringComparison.Ordinal);
    }

    [Test]
    public async Task Write_to_a_reflink_clone_leaves_the_source_unchanged(CancellationToken cancellationToken)
    {
        var source = xfs.NewDirectory("source");
        var original = new byte[1 << 20];
        new Random(2).NextBytes(original);
        Trees.WriteBytes(source, "data.bin", original);
        var strategy = new ReflinkStrategy();
        var clone = Path.Combine(xfs.NewDirectory("clones"), "ws");
        await strategy.CloneTreeAsync(source, clone, cancellationToken);

        await using (var stream = new FileStream(Path.Combine(clone, "data.bin"), FileMode.Open, FileAccess.Write))
        {
            stream.Position = 4096;
            await stream.WriteAsync(new byte[8192].AsMemory(), cancellationToken);
        }

        await File.WriteAllTextAsync(Path.Combine(clone, "added.txt"), "only in the clone", cancellationToken);

        await Assert.That(await File.ReadAllBytesAsync(Path.Combine(source, "data.bin"), cancellationToken))
            .IsEquivalentTo(original, CollectionOrdering.Matching);
        await Assert.That(File.Exists(Path.Combine(source, "added.txt"))).IsFalse();
        await Assert.That(await File.ReadAllBytesAsync(Path.Combine(clone, "data.bin"), cancellationToken))
            .IsNotEquivalentTo(original, CollectionOrdering.Matching);
        await Assert.That(await Trees.AllExtentsShared(Path.Combine(clone, "data.bin")))
            .IsFalse()
            .Because("the rewritten range must have its own extent");
    }

    [Test]
    public async Task Reflink_clone_keeps_modes_times_symlinks_and_empty_directories(CancellationToken cancellationToken)
    {
        var source = xfs.NewDirectory("source");
        Trees.Write(source, "bin/tool.sh", "#!/bin/sh\necho hi\n");
        File.SetUnixFileMode(Path.Combine(source, "bin/tool.sh"), (UnixFileMode)0b111_101_000);
        File.CreateSymbolicLink(Path.Combine(source, "link"), "bin/tool.sh");
        Directory.CreateDirectory(Path.Combine(source, "empty/inner"));
        var stamp = new DateTime(2020, 2, 3, 4, 5, 6, DateTimeKind.Utc).AddTicks(1234567);
        File.SetLastWriteTimeUtc(Path.Combine(source, "bin/tool.sh"), stamp);
        File.SetUnixFileMode(Path.Combine(source, "empty"), (UnixFileMode)0b101_101_101);

        var clone = Path.Combine(xfs.NewDirectory("clones"), "ws");
        await new ReflinkStrategy().CloneTreeAsync(source, clone, cancellationToken);

        await Assert.That(File.GetUnixFileMode(Path.Combine(clone, "bin/tool.sh"))).IsEqualTo((UnixFileMode)0b111_101_000);
        await Assert.That(File.GetLastWriteTimeUtc(Path.Combine(clone, "bin/tool.sh"))).IsEqualTo(stamp);
        await Assert.That(new FileInfo(Path.Combine(clone, "link")).LinkTarget).IsEqualTo("bin/tool.sh");
        await Assert.That(Directory.Exists(Path.Combine(clone, "empty/inner"))).IsTrue();
        await Assert.That(File.GetUnixFileMode(Path.Combine(clone, "empty"))).IsEqualTo((UnixFileMode)0b101_101_101);
    }

    [Test]
    public async Task Probe_picks_reflink_for_a_work_dir_on_xfs()
    {
        var workDir = xfs.NewDirectory("work");
        var notices = new StringWriter();

        var strategy = WorkspaceStrategies.ForWorkDir(workDir, _ => null, notices);
        var probe = WorkspaceStrategies.Probe(WorkspaceStrategies.Reflink, workDir, _ => null);

        await Assert.That(strategy).IsTypeOf<ReflinkStrategy>();
        await Assert.That(notices.ToString()).IsEqualTo("");
        await Assert.That(probe.Available).IsTrue();
        await Assert.That(probe.Reason).Contains("xfs", StringComparison.Ordinal);
        await Assert.That(Directory.GetFileSystemEntries(workDir)).IsEmpty(); // The probe cleans up after itself.
    }

    [Test]
    public async Task Reflink_across_filesystems_falls_back_per_file_and_says_EXDEV(CancellationToken cancellationToken)
    {
        var source = Directory.CreateTempSubdirectory("harmont-ext4-src-").FullName;
        try
        {
            Trees.Write(source, "a.txt", "from ext4");
            Trees.Write(source, "b/c.txt", "also from ext4");
            var strategy = new ReflinkStrategy();
            var clone = Path.Combine(xfs.NewDirectory("clones"), "ws");

            await strategy.CloneTreeAsync(source, clone, cancellationToken);

            await Assert.That(Trees.Read(clone)).IsEquivalentTo(Trees.Read(source), CollectionOrdering.Any);
            await Assert.That(strategy.Counters.CopiedFiles).IsEqualTo(2);
            await Assert.That(strategy.Counters.ReflinkedFiles).IsEqualTo(0);
            await Assert.That(strategy.Counters.FallbackReason).Contains(nameof(Errno.EXDEV), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(source, recursive: true);
        }
    }
}
