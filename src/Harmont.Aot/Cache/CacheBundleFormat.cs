using System.Formats.Tar;
using System.IO.Compression;
using Harmont.Aot.Native;
using SharpCompress.Compressors.ZStandard;
using SharpCompress.Compressors.ZStandard.Unsafe;

namespace Harmont.Aot.Cache;

/// <summary>
/// What a bundle is on disk, in one place: PAX tar members (<c>entries/&lt;key&gt;/…</c>) in a zstd stream
/// (SharpCompress's; its own tar writer cannot carry modes, links, devices or xattrs), and how names that tar
/// text cannot hold travel in it.
/// </summary>
internal static class CacheBundleFormat
{
    /// <summary>The container, as help and error messages name it.</summary>
    public const string Description = "zstd-compressed tar";

    /// <summary>The file name ending a bundle is written with.</summary>
    public const string Extension = ".tar.zst";

    // Level 3, zstd's default: on a 20 MB build tree a quarter smaller than gzip's fastest and as quick to
    // read; writing costs more CPU (this zstd is managed code, gzip is native zlib), which export pays once.
    private const int Level = 3;

    // The window is what a frame makes the reader allocate. Level 3 writes 2 MiB windows; 8 MiB still reads
    // a bundle recompressed with the zstd tool up to level 19, and refuses the 128 MiB+ a hostile frame asks for.
    private const int MaxWindowLog = 23;

    /// <summary>Where every member lives: <c>entries/&lt;key&gt;/entry.json</c>, <c>…/sources</c>, <c>…/workspace/…</c>.</summary>
    public const string Prefix = "entries/";

    /// <summary>
    /// A PAX record holding a member's name as base64 bytes, for a name that is not valid UTF-8 or holds a
    /// control character: System.Formats.Tar writes names as UTF-8 text and its reader refuses a record
    /// holding a newline, so such a name travels here and the member's tar name is a readable stand-in.
    /// </summary>
    public const string PathRecord = "HARMONT.path";

    /// <summary>The same for a symbolic link's target.</summary>
    public const string LinkRecord = "HARMONT.linkpath";

    /// <summary>The PAX record GNU tar uses for an extended attribute; only the overlay opaque mark travels.</summary>
    public const string OpaqueRecord = "SCHILY.xattr." + Workspaces.OverlayLayer.OpaqueAttribute;

    /// <summary>The compressed stream a bundle is written through; disposing it disposes <paramref name="file"/>.</summary>
    public static Stream Compress(Stream file)
    {
        var zstd = new CompressionStream(file, Level, leaveOpen: false);

        // Without a checksum a flipped byte in stored (incompressible) data reads back as different content.
        zstd.SetParameter(ZSTD_cParameter.ZSTD_c_checksumFlag, 1);
        return zstd;
    }

    /// <summary>
    /// The stream of tar bytes a bundle holds; disposing it disposes <paramref name="file"/>. The compression is
    /// told by the first bytes, never the file name: zstd, or gzip as bundles were written before zstd, so a CI
    /// cache saved by an older runner still imports. Throws <see cref="EndOfStreamException"/> for a file too
    /// short to say, <see cref="InvalidDataException"/> for anything else.
    /// </summary>
    public static Stream Decompress(Stream file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var head = new byte[ZstdMagic.Length];
        var length = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (length < head.Length)
        {
            throw new EndOfStreamException($"the file holds {length} bytes, fewer than a compressed stream's header");
        }

        if (!head.AsSpan().StartsWith(ZstdMagic) && !head.AsSpan().StartsWith(GzipMagic))
        {
            throw new InvalidDataException($"it starts with the bytes {Convert.ToHexString(head)}, where a zstd stream starts with {Convert.ToHexString(ZstdMagic)}");
        }

        // A pipe cannot seek back over the bytes just read, so they are handed out again first.
        var whole = file.CanSeek ? Rewound(file) : new ReplayStream(head, file);
        if (head.AsSpan().StartsWith(GzipMagic))
        {
            return new GZipStream(whole, CompressionMode.Decompress, leaveOpen: false);
        }

        var zstd = new DecompressionStream(whole, checkEndOfStream: true, leaveOpen: false);
        zstd.SetParameter(ZSTD_dParameter.ZSTD_d_windowLogMax, MaxWindowLog);
        return zstd;
    }

    /// <summary>Whether tar's own text fields carry <paramref name="name"/> exactly.</summary>
    public static bool FitsText(string name) => PathBytes.IsPlainText(name) && !name.Any(char.IsControl);

    /// <summary>
    /// The member's tar name for <paramref name="name"/>, adding a <see cref="PathRecord"/> (or
    /// <paramref name="record"/>) with its bytes when tar text cannot hold it.
    /// </summary>
    public static string Carry(string name, string record, Dictionary<string, string> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (FitsText(name))
        {
            return name;
        }

        records[record] = Convert.ToBase64String(PathBytes.Encode(name));
        return new string([.. name.Select(c => char.IsControl(c) || char.IsSurrogate(c) ? '?' : c)]);
    }

    /// <summary>
    /// The name a member carries in <paramref name="record"/> (decoded losslessly, see <see cref="PathBytes"/>),
    /// else <paramref name="text"/>; null when the record is not base64 or holds a NUL byte.
    /// </summary>
    public static string? Read(TarEntry member, string record, string text)
    {
        ArgumentNullException.ThrowIfNull(member);
        if (member is not PaxTarEntry pax || !pax.ExtendedAttributes.TryGetValue(record, out var encoded))
        {
            return text;
        }

        var bytes = new byte[encoded.Length];
        if (!Convert.TryFromBase64String(encoded, bytes, out var length) || bytes.AsSpan(0, length).Contains((byte)0))
        {
            return null;
        }

        return PathBytes.Decode(bytes.AsSpan(0, length));
    }

    private static ReadOnlySpan<byte> ZstdMagic => [0x28, 0xb5, 0x2f, 0xfd];

    private static ReadOnlySpan<byte> GzipMagic => [0x1f, 0x8b];

    private static Stream Rewound(Stream file)
    {
        file.Position = 0;
        return file;
    }
}
