using System.Buffers.Binary;
using System.Runtime.Versioning;
using Harmont.Aot.Native;
using Harmont.Aot.Native.Linux;
using Microsoft.Win32.SafeHandles;

namespace Harmont.Aot.Containment;

/// <summary>One entry of a walk: its path relative to the root and what <c>lstat</c> says of it.</summary>
internal readonly record struct ContainedEntry(string Relative, FileStatus Status);

/// <summary>
/// Whole-tree operations on hostile trees, by directory handle: walking, deleting and sizing never follow a
/// symlink (a link is an entry, sized as a link) and read names as bytes (docs/workspaces.md, containment).
/// </summary>
[SupportedOSPlatform("linux")]
internal static class ContainedTree
{
    private const int DirectoryBuffer = 32 * 1024;

    /// <summary>Every entry under <paramref name="root"/>, each directory before what it holds; links are entries, never followed.</summary>
    /// <param name="root">The tree.</param>
    /// <param name="descend">Whether to list what a directory holds (given its relative path); all by default.</param>
    public static List<ContainedEntry> Walk(ContainedRoot root, Func<string, bool>? descend = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        var entries = new List<ContainedEntry>();
        using var top = root.OpenDirectory("");
        WalkInto(top, "", entries, descend ?? (_ => true));
        return entries;
    }

    /// <summary>The names in one open directory, as bytes with their terminating NUL, without "." and "..".</summary>
    public static List<byte[]> ReadNames(SafeFileHandle directory)
    {
        var names = new List<byte[]>();
        var buffer = new byte[DirectoryBuffer];
        while (true)
        {
            var error = LinuxSyscalls.ReadDirectory(directory, buffer, out var read);

            // ENOENT: the directory was removed while open (an overlay whose upper layer went first); nothing is left in it.
            if (error is not (Errno.None or Errno.ENOENT))
            {
                throw new IOException($"cannot read a directory: {error.Describe()}");
            }

            if (error == Errno.ENOENT || read == 0)
            {
                return names;
            }

            // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
            for (var offset = 0; offset < read;)
            {
                var length = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(offset + 16));
                var name = buffer.AsSpan(offset + 19, length - 19);
                name = name[..name.IndexOf((byte)0)];
                if (!name.SequenceEqual("."u8) && !name.SequenceEqual(".."u8))
                {
                    var terminated = new byte[name.Length + 1];
                    name.CopyTo(terminated);
                    names.Add(terminated);
                }

                offset += length;
            }
        }
    }

    /// <summary>
    /// Removes <paramref name="name"/> from the open <paramref name="parent"/>: a file or link is unlinked, a
    /// directory emptied depth first by handle and removed. False when there was nothing by that name.
    /// </summary>
    public static bool DeleteEntry(SafeFileHandle parent, byte[] name, string describe)
    {
        var error = LinuxSyscalls.StatAt(parent, name, out var status);
        if (error == Errno.ENOENT)
        {
            return false;
        }

        if (error != Errno.None)
        {
            throw new IOException($"cannot inspect {describe}: {error.Describe()}");
        }

        if (status.IsDirectory)
        {
            error = LinuxSyscalls.OpenBeneath(parent, name, LinuxSyscalls.OpenDirectoryFlag, 0, out var directory);
            using (directory)
            {
                if (error == Errno.None)
                {
                    EmptyDirectory(directory, describe);
                }
                else if (error != Errno.ENOENT)
                {
                    throw new IOException($"cannot open {describe} to delete it: {error.Describe()}");
                }
            }
        }

        error = Unlink(parent, name, status.IsDirectory);
        return error is Errno.None or Errno.ENOENT ? true : throw new IOException($"cannot delete {describe}: {error.Describe()}");
    }

    /// <summary>Deletes the runner's own path <paramref name="path"/> and everything under it; nothing happens when it is gone.</summary>
    public static void DeleteTree(string path)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var parentPath = Path.GetDirectoryName(full);
        if (parentPath is null)
        {
            throw new IOException("refusing to delete /");
        }

        ContainedRoot parent;
        try
        {
            parent = ContainedRoot.Open(parentPath);
        }
        catch (DirectoryNotFoundException)
        {
            return;
        }

        using (parent)
        {
            DeleteEntry(parent.Handle, PathBytes.EncodeTerminated(Path.GetFileName(full)), full);
        }
    }

    /// <summary>Bytes under <paramref name="path"/>: regular files by size, a link by the length of what it holds, never what it points at.</summary>
    public static long Size(string path)
    {
        using var root = ContainedRoot.Open(path);
        return Walk(root).Where(e => e.Status.IsRegular || e.Status.IsSymlink).Sum(e => e.Status.Size);
    }

    private static void WalkInto(SafeFileHandle directory, string prefix, List<ContainedEntry> entries, Func<string, bool> descend)
    {
        foreach (var name in ReadNames(directory))
        {
            var error = LinuxSyscalls.StatAt(directory, name, out var status);
            if (error == Errno.ENOENT)
            {
                continue; // Gone since it was listed.
            }

            var relative = prefix + PathBytes.Decode(name.AsSpan(0, name.Length - 1));
            if (error != Errno.None)
            {
                throw new IOException($"cannot inspect {relative}: {error.Describe()}");
            }

            entries.Add(new ContainedEntry(relative, status));
            if (status.IsDirectory && descend(relative))
            {
                error = LinuxSyscalls.OpenBeneath(directory, name, LinuxSyscalls.OpenDirectoryFlag, 0, out var child);
                using (child)
                {
                    if (error != Errno.None)
                    {
                        throw new IOException($"cannot open directory {relative}: {error.Describe()}");
                    }

                    WalkInto(child, relative + "/", entries, descend);
                }
            }
        }
    }

    private static void EmptyDirectory(SafeFileHandle directory, string describe)
    {
        foreach (var name in ReadNames(directory))
        {
            DeleteEntry(directory, name, $"{describe}/{PathBytes.Decode(name.AsSpan(0, name.Length - 1))}");
        }
    }

    // A directory the step made read-only still has to give up its entries: the runner owns the tree.
    private static Errno Unlink(SafeFileHandle parent, byte[] name, bool directory)
    {
        var error = LinuxSyscalls.UnlinkAt(parent, name, directory);
        if (error is Errno.EACCES or Errno.EPERM && LinuxSyscalls.ChangeMode(parent, 0x1c0 /* 0700 */) == Errno.None)
        {
            error = LinuxSyscalls.UnlinkAt(parent, name, directory);
        }

        return error;
    }
}
