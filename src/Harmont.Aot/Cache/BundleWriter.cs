using System.Formats.Tar;
using System.Runtime.Versioning;
using System.Text;
using Harmont.Aot.Containment;
using Harmont.Aot.Native;
using Harmont.Aot.Native.Linux;
using Harmont.Aot.Workspaces;
using static Harmont.Aot.Cache.CacheBundleFormat;

namespace Harmont.Aot.Cache;

/// <summary>
/// Writes entries as bundle members. An entry's tree is hostile too (a step filled its workspace), so it is
/// walked by handle (<see cref="ContainedTree"/>): a link is a member holding its target's bytes, never followed.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class BundleWriter
{
    // What 'cache import' takes back: the rest of an entry's directory (its last-use mark) stays on this machine.
    private const string SourcesPart = "sources";
    private static readonly string[] Parts = ["entry.json", SourcesPart, "workspace"];

    /// <summary>
    /// Writes every entry of <paramref name="listings"/> still there to <paramref name="tarStream"/>; returns how many.
    /// Without <paramref name="withSources"/> the entries' source manifests are left out, for a writer that ships them
    /// on their own (the shared cache: one run's entries all hold the same manifest).
    /// </summary>
    public static async Task<int> WriteAsync(IReadOnlyList<CacheListing> listings, Stream tarStream, CancellationToken cancellationToken, bool withSources = true)
    {
        bool Wanted(string relative) => IsPart(relative) && (withSources || relative != SourcesPart);

        int count;
        await using (var tar = new TarWriter(tarStream, TarEntryFormat.Pax, leaveOpen: true))
        {
            count = await WriteEntriesAsync(tar, listings, Wanted, cancellationToken);
        }

        // TarWriter ends an archive only when it wrote a member; an empty store must still export a bundle that
        // imports (CI restores and imports before its first run has cached anything).
        if (count == 0)
        {
            await tarStream.WriteAsync(new byte[2 * 512], cancellationToken);
        }

        return count;
    }

    private static async Task<int> WriteEntriesAsync(TarWriter tar, IReadOnlyList<CacheListing> listings, Func<string, bool> wanted, CancellationToken cancellationToken)
    {
        var count = 0;
        foreach (var listing in listings)
        {
            ContainedRoot root;
            try
            {
                root = ContainedRoot.Open(listing.Directory);
            }
            catch (DirectoryNotFoundException)
            {
                continue; // Evicted since it was listed.
            }

            using (root)
            {
                if (!IsWhole(root, listing.Entry))
                {
                    continue; // Damaged or half-removed: an importer would refuse the whole bundle for it.
                }

                foreach (var item in ContainedTree.Walk(root, wanted).Where(e => wanted(e.Relative)))
                {
                    await WriteMemberAsync(tar, root, $"{Prefix}{listing.Entry.Key}/{item.Relative}", item, cancellationToken);
                }
            }

            count++;
        }

        return count;
    }

    private static bool IsPart(string relative) => Parts.Contains(relative.Split('/')[0], StringComparer.Ordinal);

    private static bool IsWhole(ContainedRoot root, CacheEntry entry) =>
        root.TryStat("entry.json", out var record) == Errno.None && record.IsRegular
        && (!entry.HasWorkspace
            || (root.TryStat("workspace", out var workspace) == Errno.None && workspace.IsDirectory
                && root.TryStat("sources", out var sources) == Errno.None && sources.IsRegular));

    private static async Task WriteMemberAsync(TarWriter tar, ContainedRoot root, string name, ContainedEntry item, CancellationToken cancellationToken)
    {
        var records = new Dictionary<string, string>(StringComparer.Ordinal);
        var status = item.Status;
        if (status.IsRegular)
        {
            using var handle = root.TryOpen(item.Relative, LinuxSyscalls.ReadOnlyFlag, 0, out var error);
            if (error != Errno.None)
            {
                throw root.Fail("open", item.Relative, error);
            }

            await using var data = new FileStream(handle, FileAccess.Read, bufferSize: 0);
            await tar.WriteEntryAsync(Member(TarEntryType.RegularFile, name, records, status, data), cancellationToken);
        }
        else if (status.IsDirectory)
        {
            using var directory = root.OpenDirectory(item.Relative);
            if (LinuxSyscalls.GetAttribute(directory, OverlayLayer.OpaqueAttribute, out var opaque) == Errno.None && opaque is not null)
            {
                records[OpaqueRecord] = Encoding.UTF8.GetString(opaque);
            }

            await tar.WriteEntryAsync(Member(TarEntryType.Directory, name, records, status, null), cancellationToken);
        }
        else if (status.IsSymlink)
        {
            // The records are copied into the member when it is made, so the target's goes in first.
            var target = Carry(PathBytes.Decode(root.ReadLink(item.Relative)), LinkRecord, records);
            var member = Member(TarEntryType.SymbolicLink, name, records, status, null);
            member.LinkName = target;
            await tar.WriteEntryAsync(member, cancellationToken);
        }
        else if (status.IsCharacterDevice && status.SpecialDevice == 0)
        {
            // An overlay whiteout: a file the layered step deleted from the entry below.
            await tar.WriteEntryAsync(Member(TarEntryType.CharacterDevice, name, records, status, null), cancellationToken);
        }

        // Anything else a step left (a socket, a fifo, a real device node) is not content a cache can carry.
    }

    private static PaxTarEntry Member(TarEntryType type, string name, Dictionary<string, string> records, FileStatus status, Stream? data)
    {
        var member = new PaxTarEntry(type, Carry(name, PathRecord, records), records)
        {
            Mode = (UnixFileMode)(status.Mode & 0xfff),
            ModificationTime = Time(status.Modification),
        };
        if (data is not null)
        {
            member.DataStream = data; // Only a file may be given one, even a null one.
        }

        return member;
    }

    private static DateTimeOffset Time(Timespec time)
    {
        try
        {
            return DateTimeOffset.FromUnixTimeSeconds(time.Seconds).AddTicks(time.Nanoseconds / 100);
        }
        catch (ArgumentOutOfRangeException)
        {
            return DateTimeOffset.UnixEpoch; // A time past what tar can say; the content is what matters.
        }
    }
}
