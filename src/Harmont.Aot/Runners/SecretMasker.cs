using System.Buffers;
using System.Text;

namespace Harmont.Aot.Runners;

/// <summary>Replaces every secret in a log line with <c>***</c>, and says where a long line may be cut so that no secret is cut.</summary>
/// <remarks>
/// Masking works on a line (or a piece of one), never across lines, so a mask never holds a newline.
/// A line is scanned once for all masks together; a run without secrets pays one length check.
/// </remarks>
internal sealed class SecretMasker
{
    private const string Mask = "***";

    // Longest first, so where two masks start at one place the longer one (which may contain the other) wins.
    private readonly string[] _byLength;
    private readonly SearchValues<string>? _search;

    /// <summary>Creates a masker for <paramref name="masks"/>; empty ones are ignored.</summary>
    public SecretMasker(IEnumerable<string> masks)
    {
        ArgumentNullException.ThrowIfNull(masks);
        _byLength = [.. masks.Where(m => m.Length > 0).Distinct(StringComparer.Ordinal).OrderByDescending(m => m.Length)];
        if (_byLength.Any(m => m.Contains('\n', StringComparison.Ordinal)))
        {
            throw new ArgumentException("a mask is one line; split a multi-line secret into its lines.", nameof(masks));
        }

        _search = _byLength.Length == 0 ? null : SearchValues.Create(_byLength, StringComparison.Ordinal);
    }

    /// <summary>No masks: every line passes through untouched.</summary>
    public static SecretMasker None { get; } = new([]);

    /// <summary>
    /// Characters a line splitter must hold back past a cut it is about to make: a secret that starts in
    /// them may still be arriving, and only whole secrets are masked.
    /// </summary>
    public int HoldBack => _byLength.Length == 0 ? 0 : _byLength[0].Length - 1;

    /// <summary>The text with every occurrence of a mask replaced, leftmost first.</summary>
    public string Redact(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (_search is null)
        {
            return text;
        }

        StringBuilder? masked = null;
        var copied = 0;
        while (copied < text.Length)
        {
            var found = text.AsSpan(copied).IndexOfAny(_search);
            if (found < 0)
            {
                break;
            }

            var start = copied + found;
            (masked ??= new StringBuilder(text.Length)).Append(text, copied, start - copied).Append(Mask);
            copied = start + LongestAt(text.AsSpan(start));
        }

        return masked is null ? text : masked.Append(text, copied, text.Length - copied).ToString();
    }

    /// <summary>
    /// The cut nearest to <paramref name="cut"/>, not after it, that falls inside no occurrence of a mask in
    /// <paramref name="text"/>: the two sides are then masked apart just as the whole would be. Every
    /// occurrence that could cross <paramref name="cut"/> must lie within <paramref name="text"/>, which is
    /// why a splitter holds <see cref="HoldBack"/> characters past it. Overlapping occurrences chained back
    /// to the very start leave no such cut; <paramref name="cut"/> itself is returned then.
    /// </summary>
    public int SafeCut(ReadOnlySpan<char> text, int cut)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cut);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(cut, text.Length);
        if (_search is null)
        {
            return cut;
        }

        var safe = cut;
        while (CrossingStart(text, safe) is var start and >= 0)
        {
            if (start == 0)
            {
                return cut;
            }

            safe = start;
        }

        return safe;
    }

    // Where the leftmost occurrence that starts before the cut and ends after it starts; -1 when none does.
    private int CrossingStart(ReadOnlySpan<char> text, int cut)
    {
        for (var from = Math.Max(0, cut - HoldBack); from < cut;)
        {
            var found = text[from..].IndexOfAny(_search!);
            if (found < 0 || from + found >= cut)
            {
                return -1;
            }

            var start = from + found;
            if (start + LongestAt(text[start..]) > cut)
            {
                return start;
            }

            from = start + 1;
        }

        return -1;
    }

    private int LongestAt(ReadOnlySpan<char> text)
    {
        foreach (var mask in _byLength)
        {
            if (text.StartsWith(mask, StringComparison.Ordinal))
            {
                return mask.Length;
            }
        }

        throw new InvalidOperationException("the search found a mask that no mask starts.");
    }
}
