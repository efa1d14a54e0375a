using System.Formats.Tar;
using System.IO.Compression;
using Harmont.Aot.Native;

namespace Harmont.Aot.Cache;

/// <summary>
/// What a bundle is on disk, in one place: PAX tar members (<c>entries/&lt;key&gt;/…</c>) in a compressed
/// stream, and how names that tar text cannot hold travel in it.
/// </summary>
internal static class CacheBundleFormat
{
    /// <summary>The container, as error messages name it.</summary>
    public const string Description = "gzipped tar";

    /// <summary>The file name ending a bundle is written with.</summary>
    public const string Extension = ".tar.gz";

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
    public static Stream Compress(Stream file) => new GZipStream(file, CompressionLevel.Fastest, leaveOpen: false);

    /// <summary>The stream of tar bytes a bundle holds; disposing it disposes <paramref name="file"/>.</summary>
    public static Stream Decompress(Stream file) => new GZipStream(file, CompressionMode.Decompress, leaveOpen: false);

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
}
