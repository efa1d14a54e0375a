using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace Harmont.Aot.Native.Linux;

/// <summary>
/// Every Linux system call the workspace layer makes, declared once. Each wrapper returns
/// <see cref="Errno.None"/> or the failure's errno, so callers branch on a typed value.
/// </summary>
[SupportedOSPlatform("linux")]
internal static unsafe partial class LinuxSyscalls
{
    private const string Libc = "libc";

    // _IOW(0x94, 9, int): share the source file's extents with the destination.
    private const nuint FICLONE = 0x40049409;

    // _IOWR('f', 11, struct fiemap)
    private const nuint FS_IOC_FIEMAP = 0xC020660B;
    private const uint FIEMAP_FLAG_SYNC = 0x1;
    private const uint FIEMAP_EXTENT_SHARED = 0x2000;
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int MntDetach = 0x2;
    private const uint StatxBasicStats = 0x7ff;

    private const int OpenReadOnly = 0x0;
    private const int OpenWriteOnly = 0x1;
    private const int OpenCreate = 0x40;
    private const int OpenExclusive = 0x80;
    private const int OpenCloseOnExec = 0x80000;

    /// <summary>
    /// Opens an existing file to read. Plain <c>open(2)</c>: none of the fstat and flock calls
    /// <see cref="File.OpenHandle"/> adds, which matter when a clone opens tens of thousands of files.
    /// </summary>
    public static Errno OpenRead(string path, out SafeFileHandle handle)
    {
        handle = OpenNative(path, OpenReadOnly | OpenCloseOnExec, 0);
        return handle.IsInvalid ? ErrnoText.Last() : Errno.None;
    }

    /// <summary>Creates a new file to write (<c>O_CREAT | O_EXCL</c>); <paramref name="mode"/> is still subject to the umask.</summary>
    public static Errno CreateNew(string path, uint mode, out SafeFileHandle handle)
    {
        handle = OpenNative(path, OpenWriteOnly | OpenCreate | OpenExclusive | OpenCloseOnExec, mode & 0xfff);
        return handle.IsInvalid ? ErrnoText.Last() : Errno.None;
    }

    /// <summary>Makes <paramref name="destination"/> share <paramref name="source"/>'s extents (<c>ioctl(FICLONE)</c>).</summary>
    public static Errno CloneFile(SafeFileHandle destination, SafeFileHandle source) =>
        Ioctl(destination, FICLONE, source) == 0 ? Errno.None : ErrnoText.Last();

    /// <summary>Copies <paramref name="length"/> bytes in the kernel; <paramref name="copied"/> may be short at EOF.</summary>
    public static Errno CopyFileRange(SafeFileHandle source, ref long sourceOffset, SafeFileHandle destination, ref long destinationOffset, long length, out long copied)
    {
        fixed (long* inOffset = &sourceOffset)
        fixed (long* outOffset = &destinationOffset)
        {
            copied = CopyFileRangeNative(source, inOffset, destination, outOffset, (nuint)length, 0);
        }

        return copied >= 0 ? Errno.None : ErrnoText.Last();
    }

    /// <summary><c>mount(2)</c>.</summary>
    public static Errno Mount(string source, string target, string fileSystemType, string? data) =>
        MountNative(source, target, fileSystemType, 0, data) == 0 ? Errno.None : ErrnoText.Last();

    /// <summary><c>umount2(2)</c>; <paramref name="detach"/> makes it lazy (MNT_DETACH).</summary>
    public static Errno Unmount(string target, bool detach) =>
        Umount2(target, detach ? MntDetach : 0) == 0 ? Errno.None : ErrnoText.Last();

    /// <summary><c>statx(2)</c> without following a final symlink.</summary>
    public static Errno Stat(string path, out FileStatus status)
    {
        fixed (byte* name = PathBytes.EncodeTerminated(path))
        {
            return StatxAt(AtFdCwd, name, AtSymlinkNoFollow, out status);
        }
    }

    /// <summary>The filesystem type magic and id of the filesystem holding <paramref name="path"/> (<c>statfs(2)</c>).</summary>
    public static Errno FileSystemOf(string path, out long typeMagic)
    {
        StatfsBuffer buffer;
        if (Statfs(path, &buffer) != 0)
        {
            typeMagic = 0;
            return ErrnoText.Last();
        }

        typeMagic = buffer.Type;
        return Errno.None;
    }

    /// <summary>Sets permission bits (including setuid/setgid/sticky) on an open file.</summary>
    public static Errno ChangeMode(SafeFileHandle file, uint mode) => Fchmod(file, mode & 0xfff) == 0 ? Errno.None : ErrnoText.Last();

    /// <summary>Sets access and modification times on an open file, to the nanosecond.</summary>
    public static Errno SetTimes(SafeFileHandle file, Timespec access, Timespec modification)
    {
        var times = stackalloc Timespec[2] { access, modification };
        return Futimens(file, times) == 0 ? Errno.None : ErrnoText.Last();
    }

    /// <summary>Sets times on a path without following a final symlink (directories, links).</summary>
    public static Errno SetTimes(string path, Timespec access, Timespec modification)
    {
        var times = stackalloc Timespec[2] { access, modification };
        return Utimensat(AtFdCwd, path, times, AtSymlinkNoFollow) == 0 ? Errno.None : ErrnoText.Last();
    }

    /// <summary>Sets permission bits on a path (directories).</summary>
    public static Errno ChangeMode(string path, uint mode) => Chmod(path, mode & 0xfff) == 0 ? Errno.None : ErrnoText.Last();

    /// <summary>The effective user id.</summary>
    public static uint EffectiveUserId() => Geteuid();

    /// <summary>The effective group id.</summary>
    public static uint EffectiveGroupId() => Getegid();

    /// <summary>
    /// Whether every extent of the open file is shared with another file (<c>FS_IOC_FIEMAP</c>,
    /// <c>FIEMAP_EXTENT_SHARED</c>); how tests prove a clone shares data rather than copying it.
    /// </summary>
    public static Errno AllExtentsShared(SafeFileHandle file, out bool shared, out int extents)
    {
        const int Capacity = 256;
        var size = sizeof(FiemapHeader) + (Capacity * sizeof(FiemapExtent));
        var buffer = stackalloc byte[size];
        new Span<byte>(buffer, size).Clear();
        var header = (FiemapHeader*)buffer;
        header->Length = ulong.MaxValue;
        header->Flags = FIEMAP_FLAG_SYNC;
        header->ExtentCount = Capacity;
        if (IoctlPointer(file, FS_IOC_FIEMAP, buffer) != 0)
        {
            shared = false;
            extents = 0;
            return ErrnoText.Last();
        }

        extents = (int)header->MappedExtents;
        var all = extents > 0;
        var list = (FiemapExtent*)(buffer + sizeof(FiemapHeader));
        for (var i = 0; i < extents; i++)
        {
            all &= (list[i].Flags & FIEMAP_EXTENT_SHARED) != 0;
        }

        shared = all;
        return Errno.None;
    }

    [LibraryImport(Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial SafeFileHandle OpenNative(string path, int flags, uint mode);

    [LibraryImport(Libc, EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(SafeFileHandle fd, nuint request, SafeFileHandle argument);

    [LibraryImport(Libc, EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlPointer(SafeFileHandle fd, nuint request, void* argument);

    [LibraryImport(Libc, EntryPoint = "copy_file_range", SetLastError = true)]
    private static partial nint CopyFileRangeNative(SafeFileHandle fdIn, long* offIn, SafeFileHandle fdOut, long* offOut, nuint length, uint flags);

    [LibraryImport(Libc, EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MountNative(string source, string target, string fileSystemType, nuint flags, string? data);

    [LibraryImport(Libc, EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Umount2(string target, int flags);

    [LibraryImport(Libc, EntryPoint = "statfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statfs(string path, StatfsBuffer* buffer);

    [LibraryImport(Libc, EntryPoint = "fchmod", SetLastError = true)]
    private static partial int Fchmod(SafeFileHandle fd, uint mode);

    [LibraryImport(Libc, EntryPoint = "chmod", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Chmod(string path, uint mode);

    [LibraryImport(Libc, EntryPoint = "futimens", SetLastError = true)]
    private static partial int Futimens(SafeFileHandle fd, Timespec* times);

    [LibraryImport(Libc, EntryPoint = "utimensat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Utimensat(int dirFd, string path, Timespec* times, int flags);

    [LibraryImport(Libc, EntryPoint = "geteuid")]
    private static partial uint Geteuid();

    [LibraryImport(Libc, EntryPoint = "getegid")]
    private static partial uint Getegid();

    // struct statx (linux/stat.h): the same layout on every Linux architecture, unlike struct stat.
    // Each statx_timestamp is 16 bytes (s64 tv_sec, u32 tv_nsec, s32 pad): atime@64, btime@80, ctime@96, mtime@112.
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct StatxBuffer
    {
        [FieldOffset(20)] public uint Uid;
        [FieldOffset(24)] public uint Gid;
        [FieldOffset(28)] public ushort Mode;
        [FieldOffset(32)] public ulong Inode;
        [FieldOffset(40)] public long Size;
        [FieldOffset(64)] public long AtimeSec;
        [FieldOffset(72)] public uint AtimeNsec;
        [FieldOffset(96)] public long CtimeSec;
        [FieldOffset(104)] public uint CtimeNsec;
        [FieldOffset(112)] public long MtimeSec;
        [FieldOffset(120)] public uint MtimeNsec;
        [FieldOffset(128)] public uint RdevMajor;
        [FieldOffset(132)] public uint RdevMinor;
        [FieldOffset(136)] public uint DevMajor;
        [FieldOffset(140)] public uint DevMinor;
    }

    // struct statfs on 64-bit Linux: f_type is the first word; 120 bytes in all.
    [StructLayout(LayoutKind.Explicit, Size = 120)]
    private struct StatfsBuffer
    {
        [FieldOffset(0)] public long Type;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct FiemapHeader
    {
        public ulong Start;
        public ulong Length;
        public uint Flags;
        public uint MappedExtents;
        public uint ExtentCount;
        public uint Reserved;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct FiemapExtent
    {
        public ulong Logical;
        public ulong Physical;
        public ulong Length;
        public ulong Reserved0;
        public ulong Reserved1;
        public uint Flags;
        public uint Reserved2;
        public uint Reserved3;
        public uint Reserved4;
    }
}

/// <summary>A <c>struct timespec</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct Timespec(long Seconds, long Nanoseconds);

/// <summary>What <c>statx</c> says about one path.</summary>
/// <param name="Mode">Type and permission bits (<c>st_mode</c>).</param>
/// <param name="Size">Size in bytes.</param>
/// <param name="Uid">Owner.</param>
/// <param name="Access">Last access time.</param>
/// <param name="Modification">Last modification time.</param>
/// <param name="Device">The device of the filesystem holding it (major &lt;&lt; 32 | minor).</param>
/// <param name="Inode">The inode number; with <paramref name="Device"/>, which file this is.</param>
/// <param name="Change">Last status change time (ctime): moves on every write, rename or chmod, and cannot be set back.</param>
internal readonly record struct FileStatus(uint Mode, long Size, uint Uid, Timespec Access, Timespec Modification, ulong Device, ulong Inode, Timespec Change)
{
    private const uint TypeMask = 0xf000;

    public bool IsRegular => (Mode & TypeMask) == 0x8000;

    public bool IsDirectory => (Mode & TypeMask) == 0x4000;

    public bool IsSymlink => (Mode & TypeMask) == 0xa000;

    public bool IsCharacterDevice => (Mode & TypeMask) == 0x2000;

    /// <summary>The device a character or block device node stands for (major &lt;&lt; 32 | minor); 0/0 is an overlay whiteout.</summary>
    public ulong SpecialDevice { get; init; }

    /// <summary>The owning group.</summary>
    public uint Gid { get; init; }
}
