using System.Formats.Tar;
using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests;

/// <summary>A busybox-only image imported from the host's /bin/busybox, so Docker tests need no registry.</summary>
public static class BusyboxImage
{
    /// <summary>The image reference tests run steps in.</summary>
    public const string Image = "harmont-test/busybox:1";

    private const string Repository = "harmont-test/busybox";
    private const string Tag = "1";
    private const string HostBusybox = "/bin/busybox";

    // Applets the tests' commands use; busybox picks the applet from the name it is started as.
    private static readonly string[] Applets =
    [
        "sh", "echo", "cat", "ls", "mkdir", "sleep", "touch", "rm", "test", "[", "grep", "wc", "printf", "head",
        "tail", "seq", "yes", "true", "false", "date", "id", "chmod", "chown", "dd", "env", "pwd", "stat", "find",
        "cp", "mv", "ln", "sed", "tr", "sort", "cut", "tee", "xargs", "kill", "ps",
    ];

    // Serialises imports within this process; the engine itself is the record of whether the image exists.
    private static readonly SemaphoreSlim Gate = new(1, 1);

    /// <summary>Imports the image unless the engine already has it. Fails the test when no engine answers.</summary>
    public static async Task EnsureAsync()
    {
        var cancellationToken = TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None;
        using var client = await DockerTestEngine.ConnectAsync();
        await Gate.WaitAsync(cancellationToken);
        try
        {
            if (await client.ImageExistsAsync(Image, cancellationToken))
            {
                return;
            }

            await Assert.That(File.Exists(HostBusybox))
                .IsTrue()
                .Because($"{HostBusybox} is missing; install busybox-static so the Docker tests can build their image.");
            using var rootfs = BuildRootfs();
            var labels = new Dictionary<string, string> { ["dev.harmont.aot.test"] = "1" };
            await client.ImportImageAsync(rootfs, Repository, Tag, labels, cancellationToken);
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Builds the image's root filesystem as an in-memory tarball.</summary>
    internal static MemoryStream BuildRootfs()
    {
        const UnixFileMode Dir = (UnixFileMode)0b111_101_101;
        var rootfs = new MemoryStream();
        using (var tar = new TarWriter(rootfs, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var dir in new[] { "bin/", "etc/", "root/", "workspace/" })
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, dir) { Mode = Dir });
            }

            tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "tmp/") { Mode = (UnixFileMode)0b111_111_111 | UnixFileMode.StickyBit });

            using (var busybox = File.OpenRead(HostBusybox))
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "bin/busybox") { Mode = Dir, DataStream = busybox });
            }

            foreach (var applet in Applets)
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "bin/" + applet) { LinkName = "busybox", Mode = Dir });
            }

            WriteFile(tar, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
            WriteFile(tar, "etc/group", "root:x:0:\n");
        }

        rootfs.Position = 0;
        return rootfs;
    }

    private static void WriteFile(TarWriter tar, string name, string text)
    {
        using var data = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text));
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { Mode = (UnixFileMode)0b110_100_100, DataStream = data });
    }
}
