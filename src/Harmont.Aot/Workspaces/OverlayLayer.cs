using System.Runtime.Versioning;
using Harmont.Aot.Containment;
using Harmont.Aot.Native.Linux;
using Microsoft.Win32.SafeHandles;

namespace Harmont.Aot.Workspaces;

/// <summary>
/// An overlay upper layer as plain files (docs/cache-store.md): what a step changed over its lower layers,
/// with deletions as whiteouts (0/0 character devices, or <c>.wh.</c> files from fuse-overlayfs) and
/// replaced directories marked opaque by <see cref="OpaqueAttribute"/>.
/// </summary>
internal static class OverlayLayer
{
    /// <summary>The extended attribute both kernel overlayfs and fuse-overlayfs (as root) mark an opaque directory with.</summary>
    public const string OpaqueAttribute = "trusted.overlay.opaque";

    /// <summary>
    /// Gives <paramref name="destination"/> (new, on the same filesystem) the layer at <paramref name="upper"/>
    /// without copying a byte: directories are made anew with their mode and opaque mark, and everything
    /// else (files, symlinks, whiteouts) is hard-linked. Nothing writes a finished layer's files again,
    /// so sharing their inodes is safe; the cost is one link per changed file.
    /// </summary>
    [SupportedOSPlatform("linux")]
    public static void Link(string upper, string destination)
    {
        // A step wrote the layer: walked by handle, its links linked as links, never followed.
        using var from = ContainedRoot.Open(upper);
        using var to = ContainedRoot.Create(destination);
        CopyDirectory(from.Handle, to.Handle, destination);
        foreach (var entry in ContainedTree.Walk(from))
        {
            var (parent, name) = ContainedRoot.SplitParent(entry.Relative);
            using var target = to.OpenDirectory(parent);
            if (entry.Status.IsDirectory)
            {
                Check(LinuxSyscalls.MakeDirectoryAt(target, name, entry.Status.Mode), "create", entry.Relative);
                using var source = from.OpenDirectory(entry.Relative);
                using var made = to.OpenDirectory(entry.Relative);
                CopyDirectory(source, made, entry.Relative);
            }
            else
            {
                using var source = from.OpenDirectory(parent);
                Check(LinuxSyscalls.LinkAt(source, name, target, name), "link", entry.Relative);
            }
        }
    }

    // A directory is made anew with its mode and opaque mark; its files are shared.
    [SupportedOSPlatform("linux")]
    private static void CopyDirectory(SafeFileHandle from, SafeFileHandle to, string path)
    {
        if (LinuxSyscalls.StatHandle(from, out var status) == Errno.None)
        {
            LinuxSyscalls.ChangeMode(to, status.Mode);
        }

        if (LinuxSyscalls.GetAttribute(from, OpaqueAttribute, out var opaque) == Errno.None && opaque is not null)
        {
            Check(LinuxSyscalls.SetAttribute(to, OpaqueAttribute, opaque), "mark opaque", path);
        }
    }

    private static void Check(Errno error, string what, string path)
    {
        if (error != Errno.None)
        {
            throw new IOException($"cannot {what} {path} while keeping a step's overlay layer: {error.Describe()}");
        }
    }
}
