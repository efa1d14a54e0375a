using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Harmont.Aot.Model;
using Harmont.Aot.Native.Linux;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Cache;

/// <summary>
/// <c>cache export</c>/<c>cache import</c>: entries as one gzipped tar, for CI cache services.
/// Import trusts nothing in the bundle: every member must stay inside its own entry, links
/// included, and one bad member rejects the whole bundle before anything is published.
/// </summary>
internal static class CacheBundle
{
    private const string Prefix = "entries/";
    private const string OpaqueAttribute = OverlayLayer.OpaqueAttribute;
    private const string OpaqueRecord = "SCHILY.xattr." + OpaqueAttribute;

    public static async Task<int> ExportAsync(CacheStore store, string file, CancellationToken cancellationToken)
    {
        var entries = store.List();
        await using var output = File.Create(file);
        await using var gzip = new GZipStream(output, CompressionLevel.Fastest);
        await using var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: false);
        foreach (var listing in entries)
        {
            foreach (var path in Walk(listing.Directory))
            {
                var relative = Path.GetRelativePath(listing.Directory, path).Replace('\\', '/');
                if (relative == ".used")
                {
                    continue;
                }

                var name = $"{Prefix}{listing.Entry.Key}/{relative}";
                if (OpaqueDirectory(path) is { } opaque)
                {
                    await tar.WriteEntryAsync(opaque(name), cancellationToken);
                }
                else
                {
                    await tar.WriteEntryAsync(path, name, cancellationToken);
                }
            }
        }

        return entries.Count;
    }

    /// <summary>Imports the bundle's entries; entries already present are kept (first writer wins). Returns how many were added.</summary>
    public static async Task<int> ImportAsync(CacheStore store, string file, CancellationToken cancellationToken)
    {
        var staging = store.BeginEntry();
        try
        {
            await using (var input = File.OpenRead(file))
            await using (var gzip = new GZipStream(input, CompressionMode.Decompress))
            await using (var tar = new TarReader(gzip))
            {
                while (await tar.GetNextEntryAsync(copyData: false, cancellationToken) is { } member)
                {
                    await ExtractAsync(member, staging, cancellationToken);
                }
            }

            // Every entry is checked before the first is published: a bad bundle adds nothing.
            var staged = new List<(string Dir, CacheEntry Entry)>();
            foreach (var dir in Directory.EnumerateDirectories(staging))
            {
                var key = Path.GetFileName(dir);
                var entry = CacheStore.ReadStaged(dir) ?? throw Reject(file, $"{Prefix}{key}/", "has no readable entry.json");
                if (entry.Key != key)
                {
                    throw Reject(file, $"{Prefix}{key}/entry.json", $"names key {entry.Key}, not {key}");
                }

                staged.Add((dir, entry));
            }

            return staged.Count(s => store.Publish(s.Dir, s.Entry));
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    private static async Task ExtractAsync(TarEntry member, string staging, CancellationToken cancellationToken)
    {
        var name = member.Name.TrimEnd('/');
        var (key, relative) = Split(name) ?? throw Reject(member.Name, "is not under entries/<key>/");
        if (!IsKey(key))
        {
            throw Reject(member.Name, $"'{key}' is not a cache key (64 lowercase hex digits)");
        }

        if (relative.Length == 0 && member.EntryType == TarEntryType.Directory)
        {
            Directory.CreateDirectory(Path.Combine(staging, key));
            return;
        }

        if (!IsContained(relative))
        {
            throw Reject(member.Name, "leaves its entry (absolute path or '..')");
        }

        var destination = Path.Combine(staging, key, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        switch (member.EntryType)
        {
            case TarEntryType.Directory:
                Directory.CreateDirectory(destination);
                if (member is PaxTarEntry { ExtendedAttributes: var attributes } && attributes.TryGetValue(OpaqueRecord, out var opaque))
                {
                    MarkOpaque(member.Name, destination, opaque);
                }

                break;
            case TarEntryType.CharacterDevice when member is PosixTarEntry { DeviceMajor: 0, DeviceMinor: 0 }:
                // An overlay whiteout: a file the layered step deleted from the entry below.
                await member.ExtractToFileAsync(destination, overwrite: false, cancellationToken);
                break;
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile:
                await member.ExtractToFileAsync(destination, overwrite: false, cancellationToken);
                break;
            case TarEntryType.SymbolicLink:
                var linkDir = Path.GetDirectoryName(relative.Replace('/', Path.DirectorySeparatorChar)) ?? "";
                if (member.LinkName.StartsWith('/') || !IsContained(Path.Combine(linkDir, member.LinkName).Replace('\\', '/')))
                {
                    throw Reject(member.Name, $"is a link to '{member.LinkName}', outside its entry");
                }

                File.CreateSymbolicLink(destination, member.LinkName);
                break;
            case TarEntryType.HardLink:
                var target = Split(member.LinkName.TrimEnd('/'));
                if (target is not { } t || t.Key != key || !IsContained(t.Relative))
                {
                    throw Reject(member.Name, $"is a hard link to '{member.LinkName}', outside its entry");
                }

                File.Copy(Path.Combine(staging, key, t.Relative), destination);
                break;
            default:
                throw Reject(member.Name, $"is a {member.EntryType}, which a cache entry never holds");
        }
    }

    // A directory an overlay layer marks opaque (it hides the same directory below) carries the mark as
    // the PAX record GNU tar uses for extended attributes; no other attribute is exported or imported.
    private static Func<string, PaxTarEntry>? OpaqueDirectory(string path)
    {
        if (!OperatingSystem.IsLinux() || !Directory.Exists(path) || new DirectoryInfo(path).LinkTarget is not null
            || LinuxSyscalls.GetAttribute(path, OpaqueAttribute, out var value) != Errno.None || value is null)
        {
            return null;
        }

        var info = new DirectoryInfo(path);
        return name => new PaxTarEntry(TarEntryType.Directory, name, new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [OpaqueRecord] = Encoding.UTF8.GetString(value),
        })
        {
            Mode = info.UnixFileMode,
            ModificationTime = info.LastWriteTimeUtc,
        };
    }

    private static void MarkOpaque(string member, string directory, string value)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw Reject(member, "is an opaque overlay directory, which only Linux can import");
        }

        var error = LinuxSyscalls.SetAttribute(directory, OpaqueAttribute, Encoding.UTF8.GetBytes(value));
        if (error != Errno.None)
        {
            throw new IOException($"cache import: cannot mark '{member}' opaque ({OpaqueAttribute}): {error.Describe()}; importing layered entries needs root.");
        }
    }

    private static (string Key, string Relative)? Split(string name)
    {
        if (!name.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = name[Prefix.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? (rest, "") : (rest[..slash], rest[(slash + 1)..]);
    }

    // Relative, no '..' that climbs out, no NUL or backslash tricks.
    private static bool IsContained(string relative)
    {
        if (relative.Length == 0 || relative.StartsWith('/') || relative.Contains('\0', StringComparison.Ordinal) || relative.Contains('\\', StringComparison.Ordinal))
        {
            return false;
        }

        var depth = 0;
        foreach (var part in relative.Split('/'))
        {
            depth += part switch { ".." => -1, "" or "." => 0, _ => 1 };
            if (depth < 0)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsKey(string key) => key.Length == 64 && key.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    private static IEnumerable<string> Walk(string root)
    {
        var pending = new Stack<string>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            foreach (var entry in new DirectoryInfo(pending.Pop()).EnumerateFileSystemInfos())
            {
                yield return entry.FullName;
                if (entry is DirectoryInfo && entry.LinkTarget is null)
                {
                    pending.Push(entry.FullName);
                }
            }
        }
    }

    private static PipelineException Reject(string member, string why) =>
        new($"cache import: bundle member '{member}' {why}. The bundle was rejected and nothing was imported; export it again from a trusted cache.");

    private static PipelineException Reject(string file, string member, string why) =>
        new($"cache import of {file}: '{member}' {why}. The bundle was rejected and nothing was imported; export it again from a trusted cache.");
}
