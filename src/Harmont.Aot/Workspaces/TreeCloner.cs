using System.IO.Enumeration;
using Harmont.Aot.Containment;
using Harmont.Aot.Native.Linux;
using Harmont.Aot.Native.MacOS;
using Harmont.Aot.Tuning;
using Microsoft.Win32.SafeHandles;

namespace Harmont.Aot.Workspaces;

/// <summary>
/// Clones directory trees file by file (on Linux through <see cref="ContainedRoot"/>: no link in either tree is
/// ever followed, and names are bytes): reflink (<c>FICLONE</c>, <c>clonefile</c>) when asked and the
/// filesystem shares extents, else <c>copy_file_range</c>, else a stream copy. Directories and symlinks
/// are recreated; modes and times (to the nanosecond on Linux) are kept. Ownership and hard links are
/// not: a workspace belongs to whoever runs the build. Sockets, FIFOs and devices are left out.
/// </summary>
internal sealed partial class TreeCloner
{
    private const int StreamBuffer = 1 << 20;
    private readonly bool _reflink;
    private readonly CloneCounters _counters = new();

    public TreeCloner(bool reflink, Tunables? tunables = null)
    {
        _reflink = reflink;
        Parallelism = (tunables ?? Tunables.Default).CloneParallelism;
    }

    /// <summary>How many files are cloned at once.</summary>
    public int Parallelism { get; }

    /// <summary>How files were cloned so far, and why the first fallback happened.</summary>
    public CloneCounters Counters => _counters;

    /// <summary>Clones all of <paramref name="source"/> into a new <paramref name="destination"/>.</summary>
    public Task CloneTreeAsync(string source, string destination, CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsLinux())
        {
            return CloneTreeContainedAsync(source, destination, cancellationToken);
        }

        source = Path.TrimEndingDirectorySeparator(Path.GetFullPath(source));
        var entries = Walk(source);
        return CloneEntriesAsync(source, destination, entries, cancellationToken);
    }

    /// <summary>Clones the listed entries (relative paths; their parent directories come along).</summary>
    public Task CopyEntriesAsync(string source, string destination, IReadOnlyList<string> relativePaths, CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsLinux())
        {
            return CopyEntriesContainedAsync(source, destination, relativePaths, cancellationToken);
        }

        source = Path.TrimEndingDirectorySeparator(Path.GetFullPath(source));
        var entries = new List<TreeEntry>(relativePaths.Count);
        var parents = new HashSet<string>(StringComparer.Ordinal);
        foreach (var relative in relativePaths)
        {
            for (var parent = Path.GetDirectoryName(relative); !string.IsNullOrEmpty(parent) && parents.Add(parent); parent = Path.GetDirectoryName(parent))
            {
                entries.Add(new TreeEntry(parent, EntryKind.Directory));
            }

            var info = new FileInfo(Path.Combine(source, relative));
            var kind = info.LinkTarget is not null ? EntryKind.Symlink
                : (info.Attributes & FileAttributes.Directory) != 0 ? EntryKind.Directory
                : EntryKind.File;
            if (kind != EntryKind.Directory || parents.Add(relative))
            {
                entries.Add(new TreeEntry(relative, kind));
            }
        }

        return CloneEntriesAsync(source, destination, entries, cancellationToken);
    }

    private async Task CloneEntriesAsync(string source, string destination, List<TreeEntry> entries, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(destination);
        var directories = entries.Where(e => e.Kind == EntryKind.Directory).Select(e => e.Relative).Order(StringComparer.Ordinal).ToList();
        foreach (var relative in directories)
        {
            Directory.CreateDirectory(Path.Combine(destination, relative));
        }

        var files = entries.Where(e => e.Kind != EntryKind.Directory).ToList();
        await Parallel.ForEachAsync(
            files,
            new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Parallelism },
            (entry, _) =>
            {
                CloneOne(Path.Combine(source, entry.Relative), Path.Combine(destination, entry.Relative), entry.Kind);
                return ValueTask.CompletedTask;
            });

        // Modes and times last, deepest first: a read-only directory must still receive its files,
        // and adding a file would bump the directory's mtime again.
        for (var i = directories.Count - 1; i >= 0; i--)
        {
            CopyDirectoryMetadata(Path.Combine(source, directories[i]), Path.Combine(destination, directories[i]));
        }

        CopyDirectoryMetadata(source, destination);
    }

    private void CloneOne(string from, string to, EntryKind kind)
    {
        if (kind == EntryKind.Symlink)
        {
            File.CreateSymbolicLink(to, new FileInfo(from).LinkTarget!);
            return;
        }

        if (OperatingSystem.IsMacOS() && _reflink && MacSyscalls.CloneFile(from, to) is var error && error != MacSyscalls.ENOTSUP && error != MacSyscalls.EXDEV)
        {
            if (error != 0)
            {
                throw new IOException($"clonefile {from} -> {to} failed: errno {error}");
            }

            _counters.Reflinked();
        }
        else
        {
            File.Copy(from, to, overwrite: true);
            File.SetLastWriteTimeUtc(to, File.GetLastWriteTimeUtc(from));
            _counters.Copied(_reflink ? "clonefile: ENOTSUP or EXDEV" : null);
        }
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static void CopyData(SafeFileHandle input, SafeFileHandle output, long size, string from)
    {
        long inOffset = 0, outOffset = 0;
        while (inOffset < size)
        {
            var error = LinuxSyscalls.CopyFileRange(input, ref inOffset, output, ref outOffset, size - inOffset, out var copied);
            if (error is Errno.EXDEV or Errno.EOPNOTSUPP or Errno.EINVAL or Errno.ENOSYS)
            {
                StreamCopy(input, output, inOffset);
                return;
            }

            if (error != Errno.None)
            {
                throw new IOException($"copy_file_range from {from} failed: {error.Describe()}");
            }

            if (copied == 0)
            {
                break; // The file shrank while being copied; what was there is copied.
            }
        }
    }

    private static void StreamCopy(SafeFileHandle input, SafeFileHandle output, long offset)
    {
        var buffer = new byte[StreamBuffer];
        int read;
        while ((read = RandomAccess.Read(input, buffer, offset)) > 0)
        {
            RandomAccess.Write(output, buffer.AsSpan(0, read), offset);
            offset += read;
        }
    }

    private static void CopyDirectoryMetadata(string from, string to)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(to, File.GetUnixFileMode(from));
            Directory.SetLastWriteTimeUtc(to, Directory.GetLastWriteTimeUtc(from));
        }
    }

    // Symlinks are entries, never followed; everything that is not a directory or a link is
    // sorted out (regular, special) when it is cloned.
    private static List<TreeEntry> Walk(string root)
    {
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            AttributesToSkip = 0,
            IgnoreInaccessible = false,
            ReturnSpecialDirectories = false,
        };
        var prefix = root.Length + 1;
        var enumerable = new FileSystemEnumerable<TreeEntry>(
            root,
            (ref FileSystemEntry entry) => new TreeEntry(
                entry.ToFullPath()[prefix..],
                (entry.Attributes & FileAttributes.ReparsePoint) != 0 ? EntryKind.Symlink
                    : entry.IsDirectory ? EntryKind.Directory
                    : EntryKind.File),
            options)
        {
            ShouldRecursePredicate = (ref FileSystemEntry entry) => (entry.Attributes & FileAttributes.ReparsePoint) == 0,
        };
        return [.. enumerable];
    }

    private enum EntryKind
    {
        File,
        Directory,
        Symlink,
    }

    private readonly record struct TreeEntry(string Relative, EntryKind Kind);
}

/// <summary>Counts how a <see cref="TreeCloner"/> cloned files; thread-safe.</summary>
internal sealed class CloneCounters
{
    private long _reflinked;
    private long _copied;
    private long _skipped;
    private long _linked;
    private string? _fallbackReason;

    /// <summary>Files that share extents with their source.</summary>
    public long ReflinkedFiles => Interlocked.Read(ref _reflinked);

    /// <summary>Files whose bytes were copied.</summary>
    public long CopiedFiles => Interlocked.Read(ref _copied);

    /// <summary>Files hard-linked from an overlay layer (<see cref="TreeCloner.LinkMergedAsync"/>).</summary>
    public long LinkedFiles => Interlocked.Read(ref _linked);

    /// <summary>Sockets, FIFOs and devices left out.</summary>
    public long SkippedFiles => Interlocked.Read(ref _skipped);

    /// <summary>Why the first reflink fell back to a copy, e.g. <c>FICLONE: EOPNOTSUPP (...)</c>; null if none did.</summary>
    public string? FallbackReason => Volatile.Read(ref _fallbackReason);

    internal void Reflinked() => Interlocked.Increment(ref _reflinked);

    internal void Copied(string? fallbackReason)
    {
        Interlocked.Increment(ref _copied);
        if (fallbackReason is not null)
        {
            Interlocked.CompareExchange(ref _fallbackReason, fallbackReason, null);
        }
    }

    internal void Skipped() => Interlocked.Increment(ref _skipped);

    internal void Linked() => Interlocked.Increment(ref _linked);
}
