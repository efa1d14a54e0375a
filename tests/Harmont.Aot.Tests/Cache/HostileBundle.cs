using System.Formats.Tar;
using System.Text;
using System.Text.Json;
using Harmont.Aot.Cache;

namespace Harmont.Aot.Tests.Cache;

/// <summary>Builds bundles member by member, as an attacker would: any name, any link, any header.</summary>
internal sealed class HostileBundle
{
    private readonly MemoryStream _tar = new();
    private readonly TarWriter _writer;

    public HostileBundle() => _writer = new TarWriter(_tar, TarEntryFormat.Pax, leaveOpen: true);

    /// <summary>A valid entry record for <paramref name="key"/>, changed by <paramref name="change"/>.</summary>
    public static string Record(string key, Func<CacheEntry, CacheEntry>? change = null)
    {
        var entry = new CacheEntry { Key = key, Pipeline = "ci", Step = "build", Created = DateTimeOffset.UnixEpoch, Backend = "host", HasWorkspace = true };
        return JsonSerializer.Serialize(change is null ? entry : change(entry), CacheJsonContext.Default.CacheEntry);
    }

    /// <summary>A source manifest that lists no file: a valid one.</summary>
    public const string EmptySources = "harmont-sources 2\n";

    /// <summary>A whole, valid entry: its directory, record, source manifest and workspace directory.</summary>
    public HostileBundle Entry(string key, string? record = null) =>
        Dir($"entries/{key}/").File($"entries/{key}/entry.json", record ?? Record(key)).File($"entries/{key}/sources", EmptySources).Dir($"entries/{key}/workspace/");

    public HostileBundle Dir(string name, IReadOnlyDictionary<string, string>? records = null) =>
        Add(records is null ? new PaxTarEntry(TarEntryType.Directory, name) : new PaxTarEntry(TarEntryType.Directory, name, records));

    public HostileBundle File(string name, string content) => File(name, Encoding.UTF8.GetBytes(content));

    public HostileBundle File(string name, byte[] content, IReadOnlyDictionary<string, string>? records = null)
    {
        var member = records is null ? new PaxTarEntry(TarEntryType.RegularFile, name) : new PaxTarEntry(TarEntryType.RegularFile, name, records);
        member.DataStream = new MemoryStream(content);
        return Add(member);
    }

    public HostileBundle Link(string name, string target) => Add(new PaxTarEntry(TarEntryType.SymbolicLink, name) { LinkName = target });

    public HostileBundle HardLink(string name, string target) => Add(new PaxTarEntry(TarEntryType.HardLink, name) { LinkName = target });

    /// <summary><c>l0 -> ..</c>, <c>l1 -> l0/..</c>, …: each link alone stays inside the entry, the chain climbs to /.</summary>
    public HostileBundle Chain(string directory, int links)
    {
        for (var i = 0; i < links; i++)
        {
            Link($"{directory}/l{i}", i == 0 ? ".." : $"l{i - 1}/..");
        }

        return this;
    }

    public HostileBundle Add(TarEntry member)
    {
        _writer.WriteEntry(member);
        return this;
    }

    /// <summary>The tar bytes, end-of-archive marker included.</summary>
    public byte[] TarBytes()
    {
        _writer.Dispose();
        return _tar.ToArray();
    }

    /// <summary>Writes the bundle, compressed as export does, to <paramref name="path"/>; <paramref name="mangle"/> edits the tar bytes first.</summary>
    public string Write(string path, Func<byte[], byte[]>? mangle = null)
    {
        var tar = TarBytes();
        WriteCompressed(path, mangle is null ? tar : mangle(tar));
        return path;
    }

    public static void WriteCompressed(string path, byte[] content)
    {
        using var compressed = CacheBundleFormat.Compress(System.IO.File.Create(path));
        compressed.Write(content);
    }

    /// <summary>A one-member ustar archive (no PAX header) whose header <paramref name="edit"/> rewrites; the checksum is fixed after.</summary>
    public static byte[] RawMember(string name, byte[] data, Action<byte[]> edit)
    {
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Gnu, leaveOpen: true))
        {
            writer.WriteEntry(new GnuTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });
        }

        var bytes = tar.ToArray();
        edit(bytes);
        FixChecksum(bytes, 0);
        return bytes;
    }

    /// <summary>Recomputes a ustar header's checksum, at <paramref name="offset"/>.</summary>
    public static void FixChecksum(byte[] tar, int offset)
    {
        tar.AsSpan(offset + 148, 8).Fill((byte)' ');
        var sum = 0;
        foreach (var b in tar.AsSpan(offset, 512))
        {
            sum += b;
        }

        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(tar, offset + 148);
    }
}
