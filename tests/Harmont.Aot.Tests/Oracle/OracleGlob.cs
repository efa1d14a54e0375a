namespace Harmont.Aot.Tests.Oracle;

/// <summary>
/// The oracle's own glob matcher, for the forms the generator writes (<c>dir/**</c>, <c>dir/*.txt</c>,
/// <c>*.md</c>, a plain path): <c>*</c> and <c>?</c> stay in one segment, <c>**</c> is any number of
/// segments, a pattern without <c>/</c> matches at the root only. Written apart from the product's on purpose.
/// </summary>
public static class OracleGlob
{
    public static bool Matches(string pattern, string path)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(path);
        return Segments(pattern.Split('/'), 0, path.Split('/'), 0);
    }

    private static bool Segments(string[] pattern, int p, string[] path, int s)
    {
        if (p == pattern.Length)
        {
            return s == path.Length;
        }

        if (pattern[p] == "**")
        {
            // Zero segments, or one more and try again.
            return Segments(pattern, p + 1, path, s) || (s < path.Length && Segments(pattern, p, path, s + 1));
        }

        return s < path.Length && Segment(pattern[p], 0, path[s], 0) && Segments(pattern, p + 1, path, s + 1);
    }

    private static bool Segment(string pattern, int p, string name, int n)
    {
        if (p == pattern.Length)
        {
            return n == name.Length;
        }

        return pattern[p] switch
        {
            '*' => Segment(pattern, p + 1, name, n) || (n < name.Length && Segment(pattern, p, name, n + 1)),
            '?' => n < name.Length && Segment(pattern, p + 1, name, n + 1),
            _ => n < name.Length && pattern[p] == name[n] && Segment(pattern, p + 1, name, n + 1),
        };
    }
}
