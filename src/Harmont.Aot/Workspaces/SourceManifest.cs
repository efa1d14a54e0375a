using System.Globalization;
using System.Text;
using Harmont.Aot.Containment;
using Harmont.Aot.Native;

namespace Harmont.Aot.Workspaces;

/// <summary>One source file as a run saw it: its <c>st_mode</c> (type and permission bits) and the SHA-256 of its bytes (a link: of what it holds).</summary>
internal readonly record struct SourceFile(uint Mode, string Hash)
{
    private const uint TypeMask = 0xf000;

    /// <summary>A directory in git's listing (a submodule); it has no hash.</summary>
    public bool IsDirectory => (Mode & TypeMask) == 0x4000;
}

/// <summary>
/// The source a cache entry's output was made from (docs/workspaces.md): every source file's path, mode and content
/// hash, so a later run can tell which files changed since without reading the unchanged ones again.
/// Stored as bytes: a name is whatever the file system allows.
/// </summary>
internal sealed class SourceManifest
{
    /// <summary>The most bytes a manifest may hold: about ten million files, and a bound on reading a hostile one.</summary>
    public const long MaxBytes = 1L << 30;

    private const string Header = "harmont-sources 2\n";

    public SourceManifest(IReadOnlyDictionary<string, SourceFile> files) => Files = files;

    /// <summary>Relative path (see <see cref="PathBytes"/>) to what it was.</summary>
    public IReadOnlyDictionary<string, SourceFile> Files { get; }

    /// <summary>Writes <c>header</c>, then per file <c>mode-octal SP sha256-hex SP path NUL</c>, sorted by path.</summary>
    public void Write(string path)
    {
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        stream.Write(Encoding.ASCII.GetBytes(Header));
        foreach (var (file, source) in Files.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            stream.Write(Encoding.ASCII.GetBytes($"{Convert.ToString(source.Mode, 8)} {(source.Hash.Length == 0 ? "-" : source.Hash)} "));
            stream.Write(PathBytes.Encode(file));
            stream.WriteByte(0);
        }
    }

    /// <summary>
    /// Whether the file at <paramref name="path"/> starts as a manifest of this version and ends with a whole record:
    /// two small reads, cheap enough for every lookup, which catch garbage and truncation. <see cref="Read"/> checks the rest.
    /// </summary>
    public static bool LooksWhole(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
            var header = Encoding.ASCII.GetBytes(Header);
            Span<byte> start = stackalloc byte[header.Length];
            if (stream.Length < header.Length || stream.ReadAtLeast(start, header.Length, throwOnEndOfStream: false) != header.Length
                || !start.SequenceEqual(header))
            {
                return false;
            }

            if (stream.Length == header.Length)
            {
                return true;
            }

            stream.Seek(-1, SeekOrigin.End);
            return stream.ReadByte() == 0;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Reads a manifest; one that is not in this format, or names a path that is not plain and relative, is refused.</summary>
    public static SourceManifest Read(string path) =>
        TryParse(File.ReadAllBytes(path), out var manifest) is { } problem ? throw new InvalidDataException($"source manifest {path} is corrupt: {problem}") : manifest;

    /// <summary>
    /// Parses a manifest's bytes by the rules every reader uses (an importer checks a manifest from elsewhere with
    /// these before it publishes it): null and the manifest, or what is wrong with it.
    /// </summary>
    public static string? TryParse(ReadOnlySpan<byte> bytes, out SourceManifest manifest)
    {
        manifest = Empty;
        var header = Encoding.ASCII.GetBytes(Header);
        if (!bytes.StartsWith(header))
        {
            return "it is not a source manifest of this version (its first line is not 'harmont-sources 2')";
        }

        var files = new Dictionary<string, SourceFile>(StringComparer.Ordinal);
        var rest = bytes[header.Length..];
        while (!rest.IsEmpty)
        {
            var end = rest.IndexOf((byte)0);
            if (end < 0)
            {
                return "a record is not NUL-terminated";
            }

            var record = rest[..end];
            rest = rest[(end + 1)..];
            var firstSpace = record.IndexOf((byte)' ');
            var secondSpace = firstSpace < 0 ? -1 : record[(firstSpace + 1)..].IndexOf((byte)' ') + firstSpace + 1;
            if (firstSpace <= 0 || secondSpace <= firstSpace)
            {
                return "a record is not 'mode hash path'";
            }

            var modeText = Encoding.ASCII.GetString(record[..firstSpace]);
            var hash = Encoding.ASCII.GetString(record[(firstSpace + 1)..secondSpace]);
            var name = PathBytes.Decode(record[(secondSpace + 1)..]);

            // st_mode is 16 bits; a longer number is not a mode any file had.
            if (modeText.Length > 6 || !uint.TryParse(modeText, NumberStyles.None, CultureInfo.InvariantCulture, out _) || modeText.Any(c => c > '7'))
            {
                return $"mode '{Printable(modeText)}' is not an octal file mode";
            }

            if (hash != "-" && (hash.Length != 64 || !hash.All(char.IsAsciiHexDigitLower)))
            {
                return $"hash '{Printable(hash)}' is not 64 lowercase hex digits";
            }

            if (!RelativePath.IsPlain(name) || !files.TryAdd(name, new SourceFile(Convert.ToUInt32(modeText, 8), hash == "-" ? "" : hash)))
            {
                return $"path '{Printable(name)}' is not plain and relative, or is listed twice";
            }
        }

        manifest = new SourceManifest(files);
        return null;
    }

    private static SourceManifest Empty { get; } = new(new Dictionary<string, SourceFile>(StringComparer.Ordinal));

    // A hostile manifest's text goes into a message a terminal shows: no control characters, and not all of a long one.
    private static string Printable(string text) =>
        new([.. text.Take(200).Select(c => char.IsControl(c) || char.IsSurrogate(c) ? '?' : c)]);
}

/// <summary>What changed in the source between a cache entry's manifest and now (docs/workspaces.md).</summary>
/// <param name="Written">Files that are new or whose content or mode changed: laid over the cached output.</param>
/// <param name="Gone">Files the entry's source had that the source has no more: removed from the cached output.</param>
internal sealed record SourceDelta(IReadOnlyList<string> Written, IReadOnlyList<string> Gone)
{
    /// <summary>The delta from <paramref name="then"/> to <paramref name="now"/>; an unchanged file is in neither list.</summary>
    public static SourceDelta Compute(SourceManifest then, SourceManifest now)
    {
        ArgumentNullException.ThrowIfNull(then);
        ArgumentNullException.ThrowIfNull(now);
        var written = now.Files.Where(f => !then.Files.TryGetValue(f.Key, out var old) || old != f.Value).Select(f => f.Key).Order(StringComparer.Ordinal).ToList();
        var gone = then.Files.Keys.Where(f => !now.Files.ContainsKey(f)).Order(StringComparer.Ordinal).ToList();
        return new SourceDelta(written, gone);
    }

    public bool IsEmpty => Written.Count == 0 && Gone.Count == 0;
}
