using System.Text.Json;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Cache;

/// <summary>
/// The one place an entry.json is judged (docs/cache-store.md): every reader (a lookup, a listing, a staged
/// entry, an import) parses it here and uses nothing from it that <see cref="Check"/> has not passed.
/// Nothing in an entry is ever a path: keys and bases name entries only once they are 64 lowercase hex digits.
/// </summary>
internal static class CacheEntryRules
{
    /// <summary>An entry.json is a few hundred bytes; one far larger is not ours, and is not read whole.</summary>
    public const int MaxRecordBytes = 1 << 20;

    private const int MaxNameLength = 1024;
    private const int MaxComponents = 1024;
    private const int MaxComponentLength = 64 * 1024;
    private const string ImagePrefix = "sha256:";

    // A pebibyte: past any disk, and far from overflowing when sizes are added up.
    private const long MaxSize = 1L << 50;

    /// <summary>The workspace strategies whose upper layers an entry may be stored as.</summary>
    private static readonly string[] LayerStrategies = [WorkspaceStrategies.Overlay, WorkspaceStrategies.FuseOverlay];

    private static readonly string[] Backends = ["docker", "host"];

    /// <summary>Whether <paramref name="key"/> is a cache key: 64 lowercase hex digits, so safe as a directory name.</summary>
    public static bool IsKey(string? key) => key is { Length: 64 } && key.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    /// <summary>
    /// Reads an entry.json from <paramref name="json"/> (at most <see cref="MaxRecordBytes"/>, the stream left open):
    /// the entry when it parses and every field is valid, else null and the problem.
    /// </summary>
    public static (CacheEntry? Entry, string? Problem) Read(Stream json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var size = json.CanSeek ? json.Length - json.Position : MaxRecordBytes;
        if (size > MaxRecordBytes)
        {
            return (null, $"entry.json is larger than {MaxRecordBytes} bytes");
        }

        // One byte more than expected: a file that grows while read is still caught by the bound.
        var buffer = new byte[size + 1];
        var length = 0;
        for (int read; length < buffer.Length && (read = json.Read(buffer, length, buffer.Length - length)) > 0;)
        {
            length += read;
        }

        if (length > size)
        {
            return (null, json.CanSeek ? "entry.json grew while it was read" : $"entry.json is larger than {MaxRecordBytes} bytes");
        }

        CacheEntry? entry;
        try
        {
            entry = JsonSerializer.Deserialize(buffer.AsSpan(0, length), CacheJsonContext.Default.CacheEntry);
        }
        catch (JsonException ex)
        {
            return (null, $"entry.json is not an entry record ({ex.Message})");
        }

        if (entry is null)
        {
            return (null, "entry.json is null");
        }

        return entry.Validate() is { } problem ? (null, problem) : (entry, null);
    }

    /// <summary>What is wrong with <paramref name="entry"/>'s fields, or null; the text quotes the bad value safely.</summary>
    public static string? Check(CacheEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.Format < 1)
        {
            return $"its format {entry.Format} is not a format";
        }

        if (!IsKey(entry.Key))
        {
            return $"its key {Quote(entry.Key)} is not a cache key (64 lowercase hex digits)";
        }

        if (NameProblem(entry.Pipeline) is { } pipeline)
        {
            return $"its pipeline name {Quote(entry.Pipeline)} {pipeline}";
        }

        if (NameProblem(entry.Step) is { } step)
        {
            return $"its step name {Quote(entry.Step)} {step}";
        }

        if (entry.Components is null || entry.Components.Count > MaxComponents
            || entry.Components.Any(c => c.Key is null || c.Value is null || c.Key.Length > MaxNameLength || c.Value.Length > MaxComponentLength))
        {
            return "its key components are missing or oversized";
        }

        if (entry.Image is { } image && !(image.StartsWith(ImagePrefix, StringComparison.Ordinal) && IsKey(image[ImagePrefix.Length..])))
        {
            return $"its image {Quote(image)} is not an image id (sha256: and 64 lowercase hex digits)";
        }

        if (entry.Backend is { } backend && !Backends.Contains(backend, StringComparer.Ordinal))
        {
            return $"its backend {Quote(backend)} is not one of {string.Join(", ", Backends)}";
        }

        if (entry.Size is < 0 or > MaxSize || entry.ImageSize is < 0 or > MaxSize)
        {
            return $"its size ({entry.Size}) or image size ({entry.ImageSize}) is negative or past {MaxSize} bytes";
        }

        return LayerProblem(entry);
    }

    /// <summary>A hostile value for a message: at most <paramref name="max"/> characters, control characters and lone surrogates shown as escapes.</summary>
    public static string Quote(string? value, int max = 80)
    {
        if (value is null)
        {
            return "(none)";
        }

        var shown = value.Length > max ? value[..max] + "…" : value;
        var text = new System.Text.StringBuilder(shown.Length + 2).Append('\'');
        foreach (var c in shown)
        {
            text.Append(char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:x4}" : c.ToString());
        }

        return text.Append('\'').ToString();
    }

    private static string? LayerProblem(CacheEntry entry)
    {
        if (entry.Base is null)
        {
            return entry.LayerStrategy is null ? null : "it names a layer strategy but no base entry";
        }

        if (!IsKey(entry.Base))
        {
            return $"its base {Quote(entry.Base)} is not a cache key (64 lowercase hex digits)";
        }

        if (entry.Base == entry.Key)
        {
            return "it is layered on itself";
        }

        if (entry.Format == CacheEntry.CurrentFormat)
        {
            return "it is a whole-tree entry (format 3) yet names a base entry";
        }

        return entry.LayerStrategy is { } strategy && LayerStrategies.Contains(strategy, StringComparer.Ordinal)
            ? null
            : $"its layer strategy {Quote(entry.LayerStrategy)} is not one of {string.Join(", ", LayerStrategies)}";
    }

    private static string? NameProblem(string? name) =>
        name is null || name.Length == 0 ? "is empty"
        : name.Length > MaxNameLength ? $"is longer than {MaxNameLength} characters"
        : name.Any(char.IsControl) ? "holds a control character"
        : HasLoneSurrogate(name) ? "holds an unpaired surrogate"
        : null;

    private static bool HasLoneSurrogate(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return true;
            }
        }

        return false;
    }
}
