using System.Runtime.Versioning;
using Harmont.Aot.Native.Linux;

namespace Harmont.Aot.Workspaces;

/// <summary>
/// An overlay upper layer as plain files (DESIGN §4.4): what a step changed over its lower layers,
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
        var pending = new Stack<(string From, string To)>();
        pending.Push((upper, destination));
        while (pending.TryPop(out var directory))
        {
            var info = new DirectoryInfo(directory.From);
            Directory.CreateDirectory(directory.To);
            File.SetUnixFileMode(directory.To, info.UnixFileMode);
            if (LinuxSyscalls.GetAttribute(directory.From, OpaqueAttribute, out var opaque) == Errno.None && opaque is not null)
            {
                Check(LinuxSyscalls.SetAttribute(directory.To, OpaqueAttribute, opaque), "mark opaque", directory.To);
            }

            foreach (var entry in info.EnumerateFileSystemInfos())
            {
                var to = Path.Combine(directory.To, entry.Name);
                if (entry is DirectoryInfo && entry.LinkTarget is null)
                {
                    pending.Push((entry.FullName, to));
                }
                else
                {
                    Check(LinuxSyscalls.Link(entry.FullName, to), "link", to);
                }
            }
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
