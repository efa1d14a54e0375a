using System.Runtime.Versioning;
using Harmont.Aot.Native.Linux;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Tests.Workspaces;

/// <summary>The reflink strategy on a real reflink-capable XFS: data is shared, not copied, and stays isolated.</summary>
[Trait("Requires", "root")]
[SupportedOSPlatform("linux")]
public sealed class ReflinkOnXfsTests(XfsLoopMount xfs) : IClassFixture<XfsLoopMount>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Reflink_clone_shares_every_extent_with_its_source()
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
        await strategy.CloneTreeAsync(source, clone, Ct);

        Assert.Equal(Trees.Read(source), Trees.Read(clone));
        Assert.Equal(3, strategy.Counters.ReflinkedFiles);
        Assert.Equal(0, strategy.Counters.CopiedFiles);
        foreach (var file in Directory.EnumerateFiles(clone, "*", SearchOption.AllDirectories))
        {
            Assert.True(Trees.AllExtentsShared(file), $"{file} does not share its extents");
            Assert.True(Trees.AllExtentsShared(Path.Combine(source, Path.GetRelativePath(clone, file))));
        }

        // The same fact from outside our own FIEMAP code: filefrag marks the extents shared.
        var filefrag = await Exec.RunAsync("filefrag", ["-v", Path.Combine(clone, "nested/deeper/big.bin")], clone, Ct);
        Assert.Equal(0, filefrag.ExitCode);
        Assert.Contains("shared", filefrag.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Write_to_a_reflink_clone_leaves_the_source_unchanged()
    {
        var source = xfs.NewDirectory("source");
        var original = new byte[1 << 20];
        new Random(2).NextBytes(original);
        Trees.WriteBytes(source, "data.bin", original);
        var strategy = new ReflinkStrategy();
        var clone = Path.Combine(xfs.NewDirectory("clones"), "ws");
        await strategy.CloneTreeAsync(source, clone, Ct);

        await using (var stream = new FileStream(Path.Combine(clone, "data.bin"), FileMode.Open, FileAccess.Write))
        {
            stream.Position = 4096;
            await stream.WriteAsync(new byte[8192].AsMemory(), Ct);
        }

        await File.WriteAllTextAsync(Path.Combine(clone, "added.txt"), "only in the clone", Ct);

        Assert.Equal(original, await File.ReadAllBytesAsync(Path.Combine(source, "data.bin"), Ct));
        Assert.False(File.Exists(Path.Combine(source, "added.txt")));
        Assert.NotEqual(original, await File.ReadAllBytesAsync(Path.Combine(clone, "data.bin"), Ct));
        Assert.False(Trees.AllExtentsShared(Path.Combine(clone, "data.bin")), "the rewritten range must have its own extent");
    }

    [Fact]
    public async Task Reflink_clone_keeps_modes_times_symlinks_and_empty_directories()
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
        await new ReflinkStrategy().CloneTreeAsync(source, clone, Ct);

        Assert.Equal((UnixFileMode)0b111_101_000, File.GetUnixFileMode(Path.Combine(clone, "bin/tool.sh")));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(clone, "bin/tool.sh")));
        Assert.Equal("bin/tool.sh", new FileInfo(Path.Combine(clone, "link")).LinkTarget);
        Assert.True(Directory.Exists(Path.Combine(clone, "empty/inner")));
        Assert.Equal((UnixFileMode)0b101_101_101, File.GetUnixFileMode(Path.Combine(clone, "empty")));
    }

    [Fact]
    public void Probe_picks_reflink_for_a_work_dir_on_xfs()
    {
        var workDir = xfs.NewDirectory("work");
        var notices = new StringWriter();

        var strategy = WorkspaceStrategies.ForWorkDir(workDir, _ => null, notices);
        var probe = WorkspaceStrategies.Probe(WorkspaceStrategies.Reflink, workDir, _ => null);

        Assert.IsType<ReflinkStrategy>(strategy);
        Assert.Equal("", notices.ToString());
        Assert.True(probe.Available);
        Assert.Contains("xfs", probe.Reason, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(workDir)); // The probe cleans up after itself.
    }

    [Fact]
    public async Task Reflink_across_filesystems_falls_back_per_file_and_says_EXDEV()
    {
        var source = Directory.CreateTempSubdirectory("harmont-ext4-src-").FullName;
        try
        {
            Trees.Write(source, "a.txt", "from ext4");
            Trees.Write(source, "b/c.txt", "also from ext4");
            var strategy = new ReflinkStrategy();
            var clone = Path.Combine(xfs.NewDirectory("clones"), "ws");

            await strategy.CloneTreeAsync(source, clone, Ct);

            Assert.Equal(Trees.Read(source), Trees.Read(clone));
            Assert.Equal(2, strategy.Counters.CopiedFiles);
            Assert.Equal(0, strategy.Counters.ReflinkedFiles);
            Assert.Contains(nameof(Errno.EXDEV), strategy.Counters.FallbackReason, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(source, recursive: true);
        }
    }
}
