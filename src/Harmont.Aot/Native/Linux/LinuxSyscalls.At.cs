using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Harmont.Aot.Native.Linux;

/// <summary>
/// The <c>*at</c> system calls, with names as NUL-terminated bytes (see <see cref="PathBytes"/>): what
/// containment (docs/workspaces.md, containment) is built from. Every call that takes a directory handle and a name acts on
/// that name in that directory, never following a symlink the name is.
/// </summary>
internal static unsafe partial class LinuxSyscalls
{
    private const int AtRemoveDir = 0x200;
    private const int AtEmptyPath = 0x1000;
    private const long SysOpenat2 = 437;
    private const ulong ResolveNoMagicLinks = 0x02;
    private const ulong ResolveNoSymlinks = 0x04;
    private const ulong ResolveBeneath = 0x08;

    /// <summary><c>O_DIRECTORY</c>, which differs between architectures.</summary>
    public static int OpenDirectoryFlag { get; } = IsArm ? 0x4000 : 0x10000;

    /// <summary><c>O_NOFOLLOW</c>, which differs between architectures.</summary>
    public static int OpenNoFollowFlag { get; } = IsArm ? 0x8000 : 0x20000;

    /// <summary><c>O_PATH</c>: a handle to name a file by, not to read it.</summary>
    public const int OpenPathFlag = 0x200000;

    /// <summary><c>O_RDONLY</c>.</summary>
    public const int ReadOnlyFlag = OpenReadOnly;

    /// <summary><c>O_WRONLY | O_CREAT | O_EXCL</c>: a new file to write, never an existing one or a link.</summary>
    public const int CreateNewFlags = OpenWriteOnly | OpenCreate | OpenExclusive;

    private static bool IsArm => RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm;

    // 0: not probed; 1: openat2 works; 2: the kernel (or a seccomp filter) refuses it, walk per component.
    private static int s_openat2State;

    /// <summary>
    /// Opens <paramref name="relative"/> (NUL-terminated, no leading '/', no '..') beneath <paramref name="directory"/>,
    /// failing with ELOOP or EXDEV rather than resolve any symlink on the way, the last component included
    /// unless <paramref name="flags"/> holds O_PATH|O_NOFOLLOW (then the link itself is opened).
    /// <c>openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)</c>, or per-component <c>O_NOFOLLOW</c> where the kernel lacks it.
    /// </summary>
    public static Errno OpenBeneath(SafeFileHandle directory, ReadOnlySpan<byte> relative, int flags, uint mode, out SafeFileHandle handle)
    {
        if (Volatile.Read(ref s_openat2State) != 2)
        {
            var how = new OpenHow { Flags = (ulong)(uint)(flags | OpenCloseOnExec), Mode = (flags & OpenCreate) != 0 ? mode & 0xfff : 0, Resolve = ResolveBeneath | ResolveNoSymlinks | ResolveNoMagicLinks };
            fixed (byte* path = relative)
            {
                var fd = Syscall(SysOpenat2, (nint)directory.DangerousGetHandle(), path, &how, (nuint)sizeof(OpenHow));
                if (fd >= 0)
                {
                    Volatile.Write(ref s_openat2State, 1);
                    handle = new SafeFileHandle(fd, ownsHandle: true);
                    return Errno.None;
                }
            }

            var error = ErrnoText.Last();
            if (error is not (Errno.ENOSYS or Errno.EPERM) || Volatile.Read(ref s_openat2State) == 1)
            {
                handle = new SafeFileHandle();
                return error;
            }

            Volatile.Write(ref s_openat2State, 2);
        }

        return OpenPerComponent(directory, relative, flags, mode, out handle);
    }

    /// <summary><c>statx</c> of <paramref name="name"/> in <paramref name="directory"/>, not following it.</summary>
    public static Errno StatAt(SafeFileHandle directory, ReadOnlySpan<byte> name, out FileStatus status)
    {
        fixed (byte* path = name)
        {
            return StatxAt((int)directory.DangerousGetHandle(), path, AtSymlinkNoFollow, out status);
        }
    }

    /// <summary><c>statx</c> of an open handle.</summary>
    public static Errno StatHandle(SafeFileHandle file, out FileStatus status)
    {
        byte empty = 0;
        return StatxAt((int)file.DangerousGetHandle(), &empty, AtEmptyPath | AtSymlinkNoFollow, out status);
    }

    /// <summary><c>mkdirat</c>.</summary>
    public static Errno MakeDirectoryAt(SafeFileHandle directory, ReadOnlySpan<byte> name, uint mode)
    {
        fixed (byte* path = name)
        {
            return Mkdirat(directory, path, mode & 0xfff) == 0 ? Errno.None : ErrnoText.Last();
        }
    }

    /// <summary><c>unlinkat</c>; <paramref name="directory"/> removes an empty directory.</summary>
    public static Errno UnlinkAt(SafeFileHandle parent, ReadOnlySpan<byte> name, bool directory)
    {
        fixed (byte* path = name)
        {
            return Unlinkat(parent, path, directory ? AtRemoveDir : 0) == 0 ? Errno.None : ErrnoText.Last();
        }
    }

    /// <summary><c>symlinkat</c>: makes <paramref name="name"/> a link holding <paramref name="target"/> (bytes, never resolved here).</summary>
    public static Errno SymlinkAt(ReadOnlySpan<byte> target, SafeFileHandle directory, ReadOnlySpan<byte> name)
    {
        fixed (byte* to = target)
        fixed (byte* path = name)
        {
            return Symlinkat(to, directory, path) == 0 ? Errno.None : ErrnoText.Last();
        }
    }

    /// <summary><c>readlinkat</c>: the bytes a link holds (no terminating NUL).</summary>
    public static Errno ReadLinkAt(SafeFileHandle directory, ReadOnlySpan<byte> name, out byte[] target)
    {
        var buffer = new byte[4096];
        fixed (byte* path = name)
        fixed (byte* data = buffer)
        {
            var length = Readlinkat(directory, path, data, (nuint)buffer.Length);
            if (length < 0)
            {
                target = [];
                return ErrnoText.Last();
            }

            target = buffer[..(int)length];
            return Errno.None;
        }
    }

    /// <summary><c>linkat</c> without following: a hard link to the file, link or node itself.</summary>
    public static Errno LinkAt(SafeFileHandle fromDirectory, ReadOnlySpan<byte> fromName, SafeFileHandle toDirectory, ReadOnlySpan<byte> toName)
    {
        fixed (byte* from = fromName)
        fixed (byte* to = toName)
        {
            return Linkat(fromDirectory, from, toDirectory, to, 0) == 0 ? Errno.None : ErrnoText.Last();
        }
    }

    /// <summary><c>renameat</c>.</summary>
    public static Errno RenameAt(SafeFileHandle fromDirectory, ReadOnlySpan<byte> fromName, SafeFileHandle toDirectory, ReadOnlySpan<byte> toName)
    {
        fixed (byte* from = fromName)
        fixed (byte* to = toName)
        {
            return Renameat(fromDirectory, from, toDirectory, to) == 0 ? Errno.None : ErrnoText.Last();
        }
    }

    /// <summary><c>utimensat</c> with AT_SYMLINK_NOFOLLOW: times of the name itself, a link included.</summary>
    public static Errno SetTimesAt(SafeFileHandle directory, ReadOnlySpan<byte> name, Timespec access, Timespec modification)
    {
        var times = stackalloc Timespec[2] { access, modification };
        fixed (byte* path = name)
        {
            return UtimensatHandle(directory, path, times, AtSymlinkNoFollow) == 0 ? Errno.None : ErrnoText.Last();
        }
    }

    /// <summary><c>mknodat</c> of a character device: how an overlay whiteout (0/0) is made.</summary>
    public static Errno MakeCharacterDeviceAt(SafeFileHandle directory, ReadOnlySpan<byte> name, uint mode, ulong device)
    {
        fixed (byte* path = name)
        {
            return Mknodat(directory, path, 0x2000 | (mode & 0xfff), device) == 0 ? Errno.None : ErrnoText.Last();
        }
    }

    /// <summary>Reads directory entries (<c>getdents64</c>) into <paramref name="buffer"/>; 0 bytes at the end.</summary>
    public static Errno ReadDirectory(SafeFileHandle directory, Span<byte> buffer, out int bytes)
    {
        fixed (byte* data = buffer)
        {
            var read = Getdents64(directory, data, (nuint)buffer.Length);
            bytes = (int)Math.Max(read, 0);
            return read >= 0 ? Errno.None : ErrnoText.Last();
        }
    }

    /// <summary>An extended attribute of an open file or directory; null when it has none by that name.</summary>
    public static Errno GetAttribute(SafeFileHandle file, string name, out byte[]? value)
    {
        value = null;
        Span<byte> buffer = stackalloc byte[256];
        fixed (byte* data = buffer)
        {
            var length = Fgetxattr(file, name, data, (nuint)buffer.Length);
            if (length >= 0)
            {
                value = buffer[..(int)length].ToArray();
                return Errno.None;
            }
        }

        var error = ErrnoText.Last();
        return error is Errno.ENODATA or Errno.EOPNOTSUPP ? Errno.None : error;
    }

    /// <summary>Sets an extended attribute of an open file or directory.</summary>
    public static Errno SetAttribute(SafeFileHandle file, string name, ReadOnlySpan<byte> value)
    {
        fixed (byte* data = value)
        {
            return Fsetxattr(file, name, data, (nuint)value.Length, 0) == 0 ? Errno.None : ErrnoText.Last();
        }
    }

    private static Errno StatxAt(int directory, byte* path, int flags, out FileStatus status)
    {
        StatxBuffer buffer;
        if (StatxBytes(directory, path, flags, StatxBasicStats, &buffer) != 0)
        {
            status = default;
            return ErrnoText.Last();
        }

        status = new FileStatus(
            buffer.Mode, buffer.Size, buffer.Uid,
            new Timespec(buffer.AtimeSec, buffer.AtimeNsec), new Timespec(buffer.MtimeSec, buffer.MtimeNsec),
            ((ulong)buffer.DevMajor << 32) | buffer.DevMinor,
            buffer.Inode, new Timespec(buffer.CtimeSec, buffer.CtimeNsec))
        {
            SpecialDevice = ((ulong)buffer.RdevMajor << 32) | buffer.RdevMinor,
            Gid = buffer.Gid,
        };
        return Errno.None;
    }

    // Where openat2 is missing: each directory component is opened O_NOFOLLOW|O_DIRECTORY from the last,
    // so a link anywhere fails with ELOOP (or ENOTDIR) just as RESOLVE_NO_SYMLINKS would.
    private static Errno OpenPerComponent(SafeFileHandle directory, ReadOnlySpan<byte> relative, int flags, uint mode, out SafeFileHandle handle)
    {
        var path = relative.IndexOf((byte)0) is var end and >= 0 ? relative[..end] : relative;
        var current = directory;
        var owned = false;
        try
        {
            while (true)
            {
                var slash = path.IndexOf((byte)'/');
                var last = slash < 0;
                var name = new byte[(last ? path.Length : slash) + 1];
                path[..(name.Length - 1)].CopyTo(name);
                var componentFlags = last ? flags | OpenNoFollowFlag : OpenReadOnly | OpenDirectoryFlag | OpenNoFollowFlag;
                SafeFileHandle next;
                fixed (byte* component = name)
                {
                    next = OpenAtNative(current, component, componentFlags | OpenCloseOnExec, mode & 0xfff);
                }

                if (next.IsInvalid)
                {
                    var error = ErrnoText.Last();
                    next.Dispose();
                    handle = new SafeFileHandle();
                    return error;
                }

                if (owned)
                {
                    current.Dispose();
                }

                if (last)
                {
                    handle = next;
                    owned = false;
                    return Errno.None;
                }

                current = next;
                owned = true;
                path = path[(slash + 1)..];
            }
        }
        finally
        {
            if (owned)
            {
                current.Dispose();
            }
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }

    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true)]
    private static partial int Syscall(long number, nint directory, byte* path, OpenHow* how, nuint size);

    [LibraryImport(Libc, EntryPoint = "openat", SetLastError = true)]
    private static partial SafeFileHandle OpenAtNative(SafeFileHandle directory, byte* path, int flags, uint mode);

    [LibraryImport(Libc, EntryPoint = "statx", SetLastError = true)]
    private static partial int StatxBytes(int directory, byte* path, int flags, uint mask, StatxBuffer* buffer);

    [LibraryImport(Libc, EntryPoint = "mkdirat", SetLastError = true)]
    private static partial int Mkdirat(SafeFileHandle directory, byte* path, uint mode);

    [LibraryImport(Libc, EntryPoint = "unlinkat", SetLastError = true)]
    private static partial int Unlinkat(SafeFileHandle directory, byte* path, int flags);

    [LibraryImport(Libc, EntryPoint = "symlinkat", SetLastError = true)]
    private static partial int Symlinkat(byte* target, SafeFileHandle directory, byte* path);

    [LibraryImport(Libc, EntryPoint = "readlinkat", SetLastError = true)]
    private static partial nint Readlinkat(SafeFileHandle directory, byte* path, byte* buffer, nuint size);

    [LibraryImport(Libc, EntryPoint = "linkat", SetLastError = true)]
    private static partial int Linkat(SafeFileHandle fromDirectory, byte* from, SafeFileHandle toDirectory, byte* to, int flags);

    [LibraryImport(Libc, EntryPoint = "renameat", SetLastError = true)]
    private static partial int Renameat(SafeFileHandle fromDirectory, byte* from, SafeFileHandle toDirectory, byte* to);

    [LibraryImport(Libc, EntryPoint = "utimensat", SetLastError = true)]
    private static partial int UtimensatHandle(SafeFileHandle directory, byte* path, Timespec* times, int flags);

    [LibraryImport(Libc, EntryPoint = "mknodat", SetLastError = true)]
    private static partial int Mknodat(SafeFileHandle directory, byte* path, uint mode, ulong device);

    [LibraryImport(Libc, EntryPoint = "getdents64", SetLastError = true)]
    private static partial nint Getdents64(SafeFileHandle directory, byte* buffer, nuint count);

    [LibraryImport(Libc, EntryPoint = "fgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint Fgetxattr(SafeFileHandle file, string name, byte* value, nuint size);

    [LibraryImport(Libc, EntryPoint = "fsetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Fsetxattr(SafeFileHandle file, string name, byte* value, nuint size, int flags);
}
