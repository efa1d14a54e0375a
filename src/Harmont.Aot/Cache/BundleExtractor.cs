using System.Formats.Tar;
using System.Runtime.Versioning;
using Harmont.Aot.Containment;
using Harmont.Aot.Model;
using Harmont.Aot.Native;
using Harmont.Aot.Native.Linux;
using Harmont.Aot.Workspaces;
using Microsoft.Win32.SafeHandles;
using static Harmont.Aot.Cache.CacheBundleFormat;

namespace Harmont.Aot.Cache;

/// <summary>
/// Writes a bundle's members into a staging directory, treating each as hostile (docs/workspaces.md, containment): every path is
/// made and opened beneath the staging directory without resolving a link, so a link the bundle made earlier
/// can never carry a later member out; data is streamed, never preallocated from a header, within a byte budget.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed partial class BundleExtractor : IDisposable
{
    private const string EntryFile = "entry.json";
    private const string SourcesFile = "sources";
    private const string WorkspaceDir = "workspace";
    private const string SparseRecords = "GNU.sparse.";

    // No setuid, setgid or sticky bit comes in from a bundle.
    private const uint PermissionBits = 0x1ff;
    private const uint NewFile = 0x180; // 0600 until the member's own mode is set
    private const uint NewDirectory = 0x1ed; // 0755
    private const UnixFileMode OwnFile = (UnixFileMode)0x1a4; // 0644
    private const int ReadDirectory = LinuxSyscalls.ReadOnlyFlag;
    private const int CopyBuffer = 256 * 1024;

    private readonly ContainedRoot _root;
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly HashSet<string> _files = new(StringComparer.Ordinal);
    private readonly List<string> _keys = [];
    private readonly HashSet<string> _keySet = new(StringComparer.Ordinal);
    private readonly List<(string Path, uint Mode, Timespec Time)> _directories = [];
    private long _budget;

    /// <summary>Extracts into <paramref name="staging"/> (the runner's own, empty), writing at most <paramref name="budget"/> bytes of data.</summary>
    public BundleExtractor(string staging, long budget)
    {
        _root = ContainedRoot.Open(staging);
        _budget = budget;
    }

    /// <summary>The staging directory, every entry one directory named by its key.</summary>
    public ContainedRoot Root => _root;

    /// <summary>The keys of the entries extracted, in the order they first appeared.</summary>
    public IReadOnlyList<string> Keys => _keys;

    /// <summary>Checks and writes one member; a member that is not part of a well-formed entry rejects the bundle.</summary>
    public async Task ExtractAsync(TarEntry member, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        var name = Read(member, PathRecord, member.Name) ?? throw Reject(member.Name, $"carries a {PathRecord} record that is not base64 bytes without NUL");
        if (member is PaxTarEntry pax && pax.ExtendedAttributes.Keys.Any(k => k.StartsWith(SparseRecords, StringComparison.Ordinal)))
        {
            throw Reject(name, "is a sparse file, which 'cache export' never writes");
        }

        var (key, relative) = Split(name.TrimEnd('/')) ?? throw Reject(name, $"is not under {Prefix}<key>/");
        if (!CacheEntryRules.IsKey(key))
        {
            throw Reject(name, $"{CacheEntryRules.Quote(key)} is not a cache key (64 lowercase hex digits)");
        }

        if (relative.Length > 0 && !RelativePath.IsPlain(relative))
        {
            throw Reject(name, "leaves its entry (absolute path, '..', '.' or an empty component)");
        }

        var path = relative.Length == 0 ? key : $"{key}/{relative}";
        if (!_seen.Add(path))
        {
            throw Reject(name, "appears twice in the bundle");
        }

        if (_keySet.Add(key))
        {
            _keys.Add(key);
        }

        CheckPlace(name, relative, member.EntryType);
        switch (member.EntryType)
        {
            case TarEntryType.Directory:
                MakeDirectory(name, path, relative.Length == 0 ? null : member);
                break;
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile:
                if (relative == EntryFile && member.Length > CacheEntryRules.MaxRecordBytes)
                {
                    throw Reject(name, $"is {member.Length} bytes, more than an entry record can be");
                }

                // The entry's own files stay the runner's to rewrite (publishing writes entry.json again).
                var mode = relative.Contains('/', StringComparison.Ordinal) ? member.Mode : OwnFile;
                await WriteFileAsync(name, path, member.Length, mode, member.ModificationTime, member.DataStream, cancellationToken);
                break;
            case TarEntryType.HardLink:
                await CopyHardLinkAsync(name, path, key, member, cancellationToken);
                break;
            case TarEntryType.SymbolicLink:
                MakeLink(name, path, member);
                break;
            case TarEntryType.CharacterDevice when member is PosixTarEntry { DeviceMajor: 0, DeviceMinor: 0 }:
                MakeWhiteout(name, path, member.Mode);
                break;
            default:
                throw Reject(name, $"is a {member.EntryType}, which a cache entry never holds");
        }
    }

    /// <summary>Gives each directory its mode and time, deepest first, once nothing more is written into it.</summary>
    public void Finish()
    {
        for (var i = _directories.Count - 1; i >= 0; i--)
        {
            var (path, mode, time) = _directories[i];
            using var directory = _root.TryOpen(path, ReadDirectory | LinuxSyscalls.OpenDirectoryFlag, 0, out var error);
            if (error != Errno.None)
            {
                throw Reject(Prefix + path, $"cannot be reopened: {error.Describe()}");
            }

            LinuxSyscalls.ChangeMode(directory, mode);
            LinuxSyscalls.SetTimes(directory, time, time);
        }
    }

    public void Dispose() => _root.Dispose();

    /// <summary>The bundle's rejection, naming the member and the fix.</summary>
    public static PipelineException Reject(string member, string why) =>
        new($"cache import: bundle member {CacheEntryRules.Quote(member, 300)} {why}. The bundle was rejected and nothing was imported; export it again from a trusted cache.");

    // An entry holds entry.json and sources (files) and workspace/ (anything a workspace holds); nothing else.
    private static void CheckPlace(string name, string relative, TarEntryType type)
    {
        var part = relative.Split('/')[0];
        var file = type is TarEntryType.RegularFile or TarEntryType.V7RegularFile;
        var fits = relative.Length == 0 ? type == TarEntryType.Directory
            : part is EntryFile or SourcesFile ? relative == part && file
            : part == WorkspaceDir && (relative != part || type == TarEntryType.Directory);
        if (!fits)
        {
            throw Reject(name, $"is not part of a cache entry (a directory holding {EntryFile} and {SourcesFile} files and a {WorkspaceDir}/ directory)");
        }
    }

    private void MakeDirectory(string name, string path, TarEntry? member)
    {
        var opaque = false;
        if (member is PaxTarEntry pax && pax.ExtendedAttributes.TryGetValue(OpaqueRecord, out var value))
        {
            opaque = value == "y" ? true : throw Reject(name, $"marks a directory opaque with {CacheEntryRules.Quote(value)}, where overlay writes 'y'");
        }

        var (parentPath, leaf) = ContainedRoot.SplitParent(path);
        using var parent = OpenDirectory(name, parentPath);
        var error = LinuxSyscalls.MakeDirectoryAt(parent, leaf, NewDirectory);
        if (error is not (Errno.None or Errno.EEXIST))
        {
            throw Reject(name, $"cannot be made: {error.Describe()}");
        }

        using var made = Open(name, parent, leaf, parentPath.Length + 1);
        if (opaque && LinuxSyscalls.SetAttribute(made, OverlayLayer.OpaqueAttribute, "y"u8) is var marked && marked != Errno.None)
        {
            throw new PipelineException(
                $"cache import: cannot mark {CacheEntryRules.Quote(name, 300)} opaque ({OverlayLayer.OpaqueAttribute}): {marked.Describe()}; importing layered entries needs root. Nothing was imported.");
        }

        if (member is not null)
        {
            _directories.Add((path, (uint)member.Mode & PermissionBits, Time(member.ModificationTime)));
        }
    }

    private async Task WriteFileAsync(string name, string path, long length, UnixFileMode mode, DateTimeOffset modified, Stream? data, CancellationToken cancellationToken)
    {
        using var output = Create(name, path, length);
        var buffer = new byte[(int)Math.Min(CopyBuffer, Math.Max(length, 1))];
        var written = 0L;
        while (data is not null && written < length)
        {
            var read = await data.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, length - written)), cancellationToken);
            if (read == 0)
            {
                throw new EndOfStreamException($"member '{name}' ends after {written} of its {length} bytes");
            }

            await RandomAccess.WriteAsync(output, buffer.AsMemory(0, read), written, cancellationToken);
            written += read;
        }

        if (written != length)
        {
            throw new EndOfStreamException($"member '{name}' holds {written} of its {length} bytes");
        }

        LinuxSyscalls.ChangeMode(output, (uint)mode & PermissionBits);
        LinuxSyscalls.SetTimes(output, Time(modified), Time(modified));
        _files.Add(path);
    }

    // A hard link becomes a copy of a file the bundle already wrote into the same entry: entries share no inodes.
    private async Task CopyHardLinkAsync(string name, string path, string key, TarEntry member, CancellationToken cancellationToken)
    {
        var target = Read(member, LinkRecord, member.LinkName) ?? throw Reject(name, $"carries a {LinkRecord} record that is not base64 bytes without NUL");
        if (Split(target.TrimEnd('/')) is not { } t || t.Key != key || !RelativePath.IsPlain(t.Relative))
        {
            throw Reject(name, $"is a hard link to {CacheEntryRules.Quote(target, 300)}, outside its entry");
        }

        var source = $"{key}/{t.Relative}";
        if (!_files.Contains(source))
        {
            throw Reject(name, $"is a hard link to {CacheEntryRules.Quote(target, 300)}, which is not a file the bundle holds before it");
        }

        using var input = _root.TryOpen(source, LinuxSyscalls.ReadOnlyFlag, 0, out var error);
        if (error != Errno.None || LinuxSyscalls.StatHandle(input, out var status) != Errno.None || !status.IsRegular)
        {
            throw Reject(name, $"is a hard link to {CacheEntryRules.Quote(target, 300)}, which cannot be read back as a file: {error.Describe()}");
        }

        await using var data = new FileStream(input, FileAccess.Read, bufferSize: 0);
        await WriteFileAsync(name, path, status.Size, (UnixFileMode)(status.Mode & PermissionBits), member.ModificationTime, data, cancellationToken);
    }

    // A link's target is data, whatever it names (/usr/bin/python3 in a venv, a file that is not there, '..'): it is
    // made as it was and never resolved here; every later member is reached without following a link, and every
    // reader of the entry opens beneath it the same way.
    private void MakeLink(string name, string path, TarEntry member)
    {
        var target = Read(member, LinkRecord, member.LinkName) ?? throw Reject(name, $"carries a {LinkRecord} record that is not base64 bytes without NUL");
        if (target.Length == 0 || target.Contains('\0', StringComparison.Ordinal))
        {
            throw Reject(name, "is a link with an empty target or a NUL in it, which no file system holds");
        }

        var (parentPath, leaf) = ContainedRoot.SplitParent(path);
        using var parent = OpenDirectory(name, parentPath);
        var error = LinuxSyscalls.SymlinkAt(PathBytes.EncodeTerminated(target), parent, leaf);
        if (error != Errno.None)
        {
            throw Reject(name, $"cannot be made: {error.Describe()}");
        }

        LinuxSyscalls.SetTimesAt(parent, leaf, Time(member.ModificationTime), Time(member.ModificationTime));
    }

    private void MakeWhiteout(string name, string path, UnixFileMode mode)
    {
        var (parentPath, leaf) = ContainedRoot.SplitParent(path);
        using var parent = OpenDirectory(name, parentPath);
        var error = LinuxSyscalls.MakeCharacterDeviceAt(parent, leaf, (uint)mode & PermissionBits, 0);
        if (error == Errno.EPERM)
        {
            throw new PipelineException(
                $"cache import: cannot make the overlay whiteout {CacheEntryRules.Quote(name, 300)}: {error.Describe()}; importing layered entries needs root. Nothing was imported.");
        }

        if (error != Errno.None)
        {
            throw Reject(name, $"cannot be made: {error.Describe()}");
        }
    }

    // A new file, never an existing one or a link; its bytes are counted against the budget before any is written.
    private SafeFileHandle Create(string name, string path, long length)
    {
        if (length < 0 || length > _budget)
        {
            throw Reject(name, $"declares {length} bytes, more than the {_budget} bytes the import may still write (the free space on the cache's filesystem); free space there, or point HARMONT_CACHE_DIR at a larger disk");
        }

        _budget -= length;
        var (parentPath, leaf) = ContainedRoot.SplitParent(path);
        using var parent = OpenDirectory(name, parentPath);
        var error = LinuxSyscalls.OpenBeneath(parent, leaf, LinuxSyscalls.CreateNewFlags, NewFile, out var handle);
        if (error != Errno.None)
        {
            handle.Dispose();
            throw Reject(name, error == Errno.EEXIST ? "appears twice in the bundle" : $"cannot be written: {error.Describe()}");
        }

        return handle;
    }
}
