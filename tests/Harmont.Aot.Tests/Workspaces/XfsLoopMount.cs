using System.Runtime.Versioning;
using Harmont.Aot.Native.Linux;
using Harmont.Aot.Workspaces;
using TUnit.Core.Interfaces;

namespace Harmont.Aot.Tests.Workspaces;

/// <summary>
/// A real XFS filesystem with reflink enabled (<c>mkfs.xfs -m reflink=1</c>), loop-mounted once for the whole
/// test session; each test works in its own <see cref="NewDirectory"/>. Needs root, xfsprogs and a loop device:
/// without them the tests fail, never skip.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class XfsLoopMount : IAsyncInitializer, IAsyncDisposable
{
    private const long ImageBytes = 1L << 30;
    private readonly string _root = Directory.CreateTempSubdirectory("harmont-xfs-").FullName;

    /// <summary>Where the XFS filesystem is mounted.</summary>
    public string MountPoint => Path.Combine(_root, "mnt");

    private string Image => Path.Combine(_root, "xfs.img");

    /// <summary>A fresh, empty directory on the XFS filesystem.</summary>
    public string NewDirectory(string name) => Directory.CreateDirectory(Path.Combine(MountPoint, $"{name}-{Guid.NewGuid():N}")).FullName;

    public async Task InitializeAsync()
    {
        await Assert.That(LinuxSyscalls.EffectiveUserId() == 0)
            .IsTrue()
            .Because("The XFS reflink tests loop-mount a filesystem and need root (CI runs them as root).");
        Directory.CreateDirectory(MountPoint);
        using (var image = new FileStream(Image, FileMode.CreateNew))
        {
            image.SetLength(ImageBytes); // Sparse: costs nothing until written.
        }

        await RunAsync("mkfs.xfs", "-q", "-m", "reflink=1", Image);
        await RunAsync("mount", "-o", "loop", Image, MountPoint);
        await Assert.That(WorkspaceStrategies.FileSystemName(MountPoint)).IsEqualTo("xfs");
    }

    public ValueTask DisposeAsync()
    {
        // mount -o loop sets autoclear: the loop device goes with the last unmount.
        MountTable.UnmountUnder(MountPoint);
        Directory.Delete(_root, recursive: true);
        return ValueTask.CompletedTask;
    }

    private async Task RunAsync(string file, params string[] args)
    {
        (int ExitCode, string Output) result;
        try
        {
            result = await Exec.RunAsync(file, args, _root, CancellationToken.None);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"{file} is not installed ({ex.Message}); install xfsprogs for the reflink tests.", ex);
        }

        await Assert.That(result.ExitCode == 0).IsTrue().Because($"{file} {string.Join(' ', args)} failed with {result.ExitCode}: {result.Output}");
    }
}
