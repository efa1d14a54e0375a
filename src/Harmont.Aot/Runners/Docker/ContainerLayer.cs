using System.Runtime.Versioning;
using Harmont.Aot.Containment;
using Harmont.Aot.Native;
using Harmont.Aot.Native.Linux;
using Harmont.Aot.Workspaces;
using Microsoft.Win32.SafeHandles;

namespace Harmont.Aot.Runners.Docker;

/// <summary>
/// What a stopped container changed, read from its overlay2 layer on this machine instead of asking the engine,
/// whose change list mounts the layer and walks it (about a third of a second a step). The answer is the
/// engine's, which compares the container's tree with its image's: a whiteout in the upper directory is a
/// removal; a file there is a change unless it equals the image's in type, mode, owner, size, modification time
/// and capabilities; a directory is one when it is new, differs in mode or owner, holds a change, or is opaque
/// (made again) over a directory that was not empty. A directory's times are not a change, as the engine does
/// not count them: a compiler that writes and deletes its temporaries in <c>/tmp</c> changes nothing.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class ContainerLayer
{
    /// <summary>
    /// Whether the layer changed anything outside <c>/workspace</c>; null when it cannot be read here (a remote
    /// engine's path, another user's files, or not root: an opaque mark is a <c>trusted.</c> attribute, which
    /// only root sees), so the engine must be asked.
    /// </summary>
    /// <param name="upperDir">The container's upper directory (its <c>GraphDriver.Data.UpperDir</c>).</param>
    /// <param name="lowerDirs">Its lower directories, topmost first (<c>LowerDir</c>, split on ':').</param>
    public static bool? ChangedOutsideWorkspace(string? upperDir, IReadOnlyList<string> lowerDirs)
    {
        ArgumentNullException.ThrowIfNull(lowerDirs);
        if (string.IsNullOrEmpty(upperDir) || !Path.IsPathFullyQualified(upperDir) || lowerDirs.Count == 0 || !lowerDirs.All(Path.IsPathFullyQualified)
            || LinuxSyscalls.EffectiveUserId() != 0)
        {
            return null;
        }

        var lowers = new List<SafeFileHandle>();
        try
        {
            using var upper = ContainedRoot.Open(upperDir);
            lowers.AddRange(lowerDirs.Select(l => ContainedRoot.Open(l)).Select(r => r.Handle));
            return Changed(upper.Handle, lowers, top: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        finally
        {
            lowers.ForEach(l => l.Dispose());
        }
    }

    // Whether the upper directory holds a change, given the image's directories it merges over (topmost first).
    private static bool Changed(SafeFileHandle upper, List<SafeFileHandle> lowers, bool top)
    {
        foreach (var name in ContainedTree.ReadNames(upper))
        {
            if (top && name.AsSpan(0, name.Length - 1).SequenceEqual("workspace"u8))
            {
                continue; // The workspace's mount point, and the working directory made under it: no container sees them.
            }

            Check(LinuxSyscalls.StatAt(upper, name, out var status));
            if (!status.IsDirectory)
            {
                if (status.IsCharacterDevice && status.SpecialDevice == 0 || !SameAsImage(upper, name, status, lowers))
                {
                    return true; // A whiteout (a removal), or a file the image does not have as it is.
                }

                continue;
            }

            using var directory = OpenDirectory(upper, name);
            var opaque = IsOpaque(directory);
            var below = new List<SafeFileHandle>();
            try
            {
                FileStatus? image = null;
                foreach (var lower in lowers)
                {
                    var error = LinuxSyscalls.StatAt(lower, name, out var was);
                    if (error == Errno.ENOENT)
                    {
                        continue;
                    }

                    Check(error);
                    if (!was.IsDirectory)
                    {
                        break; // A file or a whiteout here hides every layer below.
                    }

                    image ??= was;
                    below.Add(OpenDirectory(lower, name));
                    if (IsOpaque(below[^1]))
                    {
                        break;
                    }
                }

                if (image is not { } before || before.Mode != status.Mode || before.Uid != status.Uid || before.Gid != status.Gid)
                {
                    return true;
                }

                // An opaque directory was removed and made again: it hides the image's, so it is a change unless both are empty.
                if (opaque ? ContainedTree.ReadNames(directory).Count > 0 || HasEntries(below) : Changed(directory, below, top: false))
                {
                    return true;
                }
            }
            finally
            {
                below.ForEach(b => b.Dispose());
            }
        }

        return false;
    }

    // A file copied up and left as it was (renamed away and back, opened for writing and not written) is the
    // image's: the same type, mode, owner, device, size, modification time and capabilities, as the engine compares.
    private static bool SameAsImage(SafeFileHandle upper, byte[] name, FileStatus status, List<SafeFileHandle> lowers)
    {
        foreach (var lower in lowers)
        {
            var error = LinuxSyscalls.StatAt(lower, name, out var was);
            if (error == Errno.ENOENT)
            {
                continue;
            }

            Check(error);
            return was.Mode == status.Mode && was.Uid == status.Uid && was.Gid == status.Gid && was.SpecialDevice == status.SpecialDevice
                && was.Size == status.Size && SameTime(was.Modification, status.Modification)
                && !(was.IsCharacterDevice && was.SpecialDevice == 0)
                && (!status.IsRegular || Capabilities(lower, name).AsSpan().SequenceEqual(Capabilities(upper, name)));
        }

        return false;
    }

    // The engine's rule: a time stored without nanoseconds matches any within its second.
    private static bool SameTime(Timespec a, Timespec b) =>
        a.Seconds == b.Seconds && (a.Nanoseconds == b.Nanoseconds || a.Nanoseconds == 0 || b.Nanoseconds == 0);

    private static byte[] Capabilities(SafeFileHandle directory, byte[] name)
    {
        var error = LinuxSyscalls.OpenBeneath(directory, name, LinuxSyscalls.ReadOnlyFlag | LinuxSyscalls.OpenNoFollowFlag, 0, out var file);
        using (file)
        {
            Check(error);
            Check(LinuxSyscalls.GetAttribute(file, "security.capability", out var value));
            return value ?? [];
        }
    }

    // Whether the image's directory, merged from its layers (topmost first), holds anything: a whiteout hides a name below it.
    private static bool HasEntries(List<SafeFileHandle> layers)
    {
        var hidden = new HashSet<string>(StringComparer.Ordinal);
        foreach (var layer in layers)
        {
            foreach (var name in ContainedTree.ReadNames(layer))
            {
                Check(LinuxSyscalls.StatAt(layer, name, out var status));
                var key = Convert.ToHexString(name);
                if (status.IsCharacterDevice && status.SpecialDevice == 0)
                {
                    hidden.Add(key);
                }
                else if (!hidden.Contains(key))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static SafeFileHandle OpenDirectory(SafeFileHandle parent, byte[] name)
    {
        var error = LinuxSyscalls.OpenBeneath(parent, name, LinuxSyscalls.OpenDirectoryFlag | LinuxSyscalls.OpenNoFollowFlag, 0, out var handle);
        if (error != Errno.None)
        {
            handle.Dispose();
            Check(error);
        }

        return handle;
    }

    private static bool IsOpaque(SafeFileHandle directory)
    {
        Check(LinuxSyscalls.GetAttribute(directory, OverlayLayer.OpaqueAttribute, out var value));
        return value is [(byte)'y', ..];
    }

    private static void Check(Errno error)
    {
        if (error != Errno.None)
        {
            throw new IOException($"cannot read a container layer: {error.Describe()}");
        }
    }
}
