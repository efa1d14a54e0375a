using System.Runtime.Versioning;
using Harmont.Aot.Native;
using Harmont.Aot.Native.Linux;
using Microsoft.Win32.SafeHandles;

namespace Harmont.Aot.Containment;

/// <summary>
/// A directory whose content is hostile (a workspace a step wrote, a cache entry, a bundle being imported):
/// every operation names a path relative to it and acts on that path without resolving any symlink on the
/// way, so nothing in the tree can make the runner touch a file outside it (docs/workspaces.md, containment). A path whose
/// directory part runs through a link or a non-directory is "not there". Names are bytes (<see cref="PathBytes"/>).
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class ContainedRoot : IDisposable
{
    private const int ReadDirectoryFlags = LinuxSyscalls.ReadOnlyFlag;

    private ContainedRoot(string path, SafeFileHandle handle)
    {
        Path = path;
        Handle = handle;
    }

    /// <summary>The directory, as the runner named it.</summary>
    public string Path { get; }

    /// <summary>The open directory every operation is relative to.</summary>
    public SafeFileHandle Handle { get; }

    /// <summary>Opens an existing directory; the path's last component must be a directory, not a link to one.</summary>
    public static ContainedRoot Open(string directory)
    {
        var handle = OpenDirectoryPath(directory);
        return new ContainedRoot(directory, handle);
    }

    /// <summary>Creates the directory (and its parents, which are the runner's own) if needed, then opens it.</summary>
    public static ContainedRoot Create(string directory)
    {
        Directory.CreateDirectory(directory);
        return Open(directory);
    }

    /// <summary>
    /// Checks <paramref name="relative"/> is a plain relative path ('/'-separated, no empty, '.' or '..'
    /// component, not absolute, no NUL) and gives its bytes, NUL-terminated.
    /// </summary>
    public static byte[] Encode(string relative)
    {
        if (!RelativePath.IsPlain(relative))
        {
            throw new InvalidDataException($"'{relative}' is not a plain relative path (absolute, empty, or with '.', '..' or an empty component)");
        }

        return PathBytes.EncodeTerminated(relative);
    }

    /// <summary>What is at <paramref name="relative"/>, the entry itself if it is a link; ENOENT (or ELOOP, ENOTDIR) when not reachable.</summary>
    public Errno TryStat(string relative, out FileStatus status)
    {
        using var handle = TryOpen(relative, LinuxSyscalls.OpenPathFlag | LinuxSyscalls.OpenNoFollowFlag, 0, out var error);
        if (error != Errno.None)
        {
            status = default;
            return error;
        }

        return LinuxSyscalls.StatHandle(handle, out status);
    }

    /// <summary>Opens <paramref name="relative"/> with <paramref name="flags"/>; the error when it cannot (ELOOP: a link on the way).</summary>
    public SafeFileHandle TryOpen(string relative, int flags, uint mode, out Errno error)
    {
        error = LinuxSyscalls.OpenBeneath(Handle, Encode(relative), flags, mode, out var handle);
        return handle;
    }

    /// <summary>Opens a directory of the tree, or the root itself for an empty path.</summary>
    public SafeFileHandle OpenDirectory(string relative)
    {
        if (relative.Length == 0)
        {
            return OpenDirectoryPath(Path);
        }

        var handle = TryOpen(relative, ReadDirectoryFlags | LinuxSyscalls.OpenDirectoryFlag, 0, out var error);
        return error == Errno.None ? handle : throw Fail("open directory", relative, error);
    }

    /// <summary>
    /// Removes whatever is at <paramref name="relative"/>: a file, a link (never its target) or a whole
    /// directory tree. False when nothing is reachable there.
    /// </summary>
    public bool Delete(string relative)
    {
        var (parent, name) = SplitParent(relative);
        using var directory = TryOpenDirectory(parent);
        if (directory is null)
        {
            return false;
        }

        return ContainedTree.DeleteEntry(directory, name, Describe(relative));
    }

    /// <summary>
    /// Makes <paramref name="relative"/> and each directory above it a real directory, replacing a file or
    /// link that stands in the way (the link itself goes, never what it points at).
    /// </summary>
    public void EnsureDirectory(string relative, uint mode = 0x1ed /* 0755 */)
    {
        var parts = relative.Split('/');
        var current = OpenDirectoryPath(Path);
        try
        {
            for (var i = 0; i < parts.Length; i++)
            {
                var name = PathBytes.EncodeTerminated(parts[i]);
                var error = LinuxSyscalls.StatAt(current, name, out var status);
                if (error == Errno.None && !status.IsDirectory)
                {
                    ContainedTree.DeleteEntry(current, name, Describe(string.Join('/', parts[..(i + 1)])));
                    error = Errno.ENOENT;
                }

                if (error == Errno.ENOENT)
                {
                    error = LinuxSyscalls.MakeDirectoryAt(current, name, mode);
                    if (error is not (Errno.None or Errno.EEXIST))
                    {
                        throw Fail("create directory", string.Join('/', parts[..(i + 1)]), error);
                    }
                }
                else if (error != Errno.None)
                {
                    throw Fail("inspect", string.Join('/', parts[..(i + 1)]), error);
                }

                error = LinuxSyscalls.OpenBeneath(current, name, ReadDirectoryFlags | LinuxSyscalls.OpenDirectoryFlag, 0, out var next);
                if (error != Errno.None)
                {
                    next.Dispose();
                    throw Fail("open directory", string.Join('/', parts[..(i + 1)]), error);
                }

                current.Dispose();
                current = next;
            }
        }
        finally
        {
            current.Dispose();
        }
    }

    /// <summary>The directory holding <paramref name="relative"/>, opened without links; null when it is not reachable.</summary>
    public SafeFileHandle? TryOpenDirectory(string relative)
    {
        if (relative.Length == 0)
        {
            return OpenDirectoryPath(Path);
        }

        var handle = TryOpen(relative, ReadDirectoryFlags | LinuxSyscalls.OpenDirectoryFlag, 0, out var error);
        if (error == Errno.None)
        {
            return handle;
        }

        handle.Dispose();
        return error is Errno.ENOENT or Errno.ELOOP or Errno.ENOTDIR or Errno.EXDEV ? null : throw Fail("open directory", relative, error);
    }

    /// <summary>The bytes the link at <paramref name="relative"/> holds; never resolved.</summary>
    public byte[] ReadLink(string relative)
    {
        var (parent, name) = SplitParent(relative);
        using var directory = TryOpenDirectory(parent) ?? throw Fail("read link", relative, Errno.ENOENT);
        var error = LinuxSyscalls.ReadLinkAt(directory, name, out var target);
        return error == Errno.None ? target : throw Fail("read link", relative, error);
    }

    /// <summary>The parent part ("" for the root) and the last component's bytes, NUL-terminated.</summary>
    public static (string Parent, byte[] Name) SplitParent(string relative)
    {
        Encode(relative);
        var slash = relative.LastIndexOf('/');
        return slash < 0 ? ("", PathBytes.EncodeTerminated(relative)) : (relative[..slash], PathBytes.EncodeTerminated(relative[(slash + 1)..]));
    }

    public void Dispose() => Handle.Dispose();

    /// <summary>An error naming the operation and the path inside the root.</summary>
    public IOException Fail(string what, string relative, Errno error) => new($"cannot {what} {Describe(relative)}: {error.Describe()}");

    private string Describe(string relative) => relative.Length == 0 ? Path : $"{Path}/{relative}";

    private static SafeFileHandle OpenDirectoryPath(string directory)
    {
        var parent = System.IO.Path.GetDirectoryName(System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(directory))) ?? "/";
        var name = System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(directory)));
        var error = LinuxSyscalls.OpenRead(parent, out var parentHandle);
        using (parentHandle)
        {
            if (error != Errno.None)
            {
                throw new IOException($"cannot open {parent}: {error.Describe()}");
            }

            if (name.Length == 0)
            {
                return LinuxSyscalls.OpenRead("/", out var root) == Errno.None ? root : throw new IOException("cannot open /");
            }

            error = LinuxSyscalls.OpenBeneath(parentHandle, PathBytes.EncodeTerminated(name), ReadDirectoryFlags | LinuxSyscalls.OpenDirectoryFlag, 0, out var handle);
            if (error != Errno.None)
            {
                handle.Dispose();
                var why = error is Errno.ELOOP or Errno.ENOTDIR ? $"it is not a directory (a link or a file stands there): {error.Describe()}" : error.Describe();
                throw error == Errno.ENOENT ? new DirectoryNotFoundException($"{directory} does not exist") : new IOException($"cannot open {directory}: {why}");
            }

            return handle;
        }
    }
}
