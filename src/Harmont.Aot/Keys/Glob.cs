namespace Harmont.Aot.Keys;

/// <summary>
/// An onChange glob, compiled once and matched against repo-relative, '/'-separated paths.
/// </summary>
/// <remarks>
/// <para>Semantics (case-sensitive, ordinal; a path is split into '/'-separated segments):</para>
/// <list type="bullet">
/// <item><c>*</c> matches any run of characters within one segment, dotfiles included (<c>*</c> matches <c>.editorconfig</c>).</item>
/// <item><c>?</c> matches exactly one character other than '/'.</item>
/// <item><c>[abc]</c>, <c>[a-z]</c> match one character of the class, <c>[!a]</c> one character not in it; a leading or trailing '-' is literal.</item>
/// <item><c>{a,b,c}</c> matches any one alternative; alternatives may contain '/' and wildcards but not further braces.
/// Inside a class '{', ',' and '}' are plain members: <c>[{,}]</c> matches one of those three characters.</item>
/// <item><c>**</c>, a whole segment, matches zero or more whole segments: <c>**/*.cs</c> matches <c>a.cs</c> and <c>x/y/a.cs</c>.
/// A trailing <c>/**</c> matches everything inside the directory but not a file of that name: <c>src/**</c> matches
/// <c>src/a</c> and <c>src/x/a</c>, not <c>src</c>.</item>
/// <item>Without '/' (and without <c>**</c>) a glob matches at the root only: <c>*.csproj</c> matches <c>a.csproj</c>, not <c>x/a.csproj</c>.</item>
/// </list>
/// <para>Matching walks the path in place, with the classic last-star backtracking at both levels (characters
/// in a segment, segments under <c>**</c>), so a call allocates nothing and takes time linear in practice.</para>
/// </remarks>
internal sealed class Glob
{
    private readonly Segment[][] _alternatives;

    /// <summary>Compiles <paramref name="pattern"/>; throws <see cref="ArgumentException"/> when <see cref="GlobSyntax.CheckGlob"/> rejects it.</summary>
    public Glob(string pattern)
    {
        if (GlobSyntax.CheckGlob(pattern) is { } problem)
        {
            throw new ArgumentException($"The glob \"{pattern}\" {problem}", nameof(pattern));
        }

        Pattern = pattern;
        _alternatives = [.. ExpandBraces(pattern).Select(CompileAlternative)];
    }

    /// <summary>The pattern as written.</summary>
    public string Pattern { get; }

    /// <summary>Whether <paramref name="relativePath"/> (repo-relative, '/'-separated) matches.</summary>
    public bool IsMatch(string relativePath)
    {
        foreach (var segments in _alternatives)
        {
            if (MatchPath(segments, relativePath))
            {
                return true;
            }
        }

        return false;
    }

    public override string ToString() => Pattern;

    /// <summary>Segment-level last-star matching: each pattern segment consumes one path segment, <c>**</c> any number.</summary>
    private static bool MatchPath(Segment[] pattern, string path)
    {
        var p = 0;
        var s = 0;
        var starP = -1;
        var starS = 0;
        while (s <= path.Length)
        {
            var end = path.IndexOf('/', s);
            if (end < 0)
            {
                end = path.Length;
            }

            if (p < pattern.Length && pattern[p].IsGlobstar)
            {
                starP = p++;
                starS = s;
            }
            else if (p < pattern.Length && pattern[p].IsMatch(path.AsSpan(s, end - s)))
            {
                p++;
                s = end + 1;
            }
            else if (starP >= 0)
            {
                // Let the last '**' swallow one more segment and retry what follows it.
                p = starP + 1;
                var next = path.IndexOf('/', starS);
                starS = next < 0 ? path.Length + 1 : next + 1;
                s = starS;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p].IsGlobstar)
        {
            p++;
        }

        return p == pattern.Length;
    }

    /// <summary>Every brace alternative spelled out: <c>{a,b}/{c,d}</c> gives four patterns. Braces never nest.</summary>
    private static List<string> ExpandBraces(string pattern)
    {
        var open = IndexOutsideClasses(pattern, '{', 0);
        if (open < 0)
        {
            return [pattern];
        }

        var close = IndexOutsideClasses(pattern, '}', open);
        var prefix = pattern[..open];
        var rest = ExpandBraces(pattern[(close + 1)..]);
        var result = new List<string>();
        foreach (var choice in SplitOutsideClasses(pattern[(open + 1)..close], ','))
        {
            result.AddRange(rest.Select(tail => prefix + choice + tail));
        }

        return result;
    }

    private static Segment[] CompileAlternative(string pattern)
    {
        var segments = SplitOutsideClasses(pattern, '/').Select(Segment.Compile).ToList();

        // A trailing '**' after a directory means "inside it": at least one more segment.
        if (segments.Count > 1 && segments[^1].IsGlobstar)
        {
            segments.Insert(segments.Count - 1, Segment.Compile("*"));
        }

        return [.. segments];
    }

    /// <summary>The first <paramref name="c"/> at or after <paramref name="start"/> that is not a class member, or -1.</summary>
    private static int IndexOutsideClasses(string text, char c, int start)
    {
        var inClass = false;
        for (var i = start; i < text.Length; i++)
        {
            if (inClass)
            {
                inClass = text[i] != ']';
            }
            else if (text[i] == c)
            {
                return i;
            }
            else
            {
                inClass = text[i] == '[';
            }
        }

        return -1;
    }

    /// <summary>Splits at <paramref name="separator"/> except inside '[' ']', where it is a class member.</summary>
    private static List<string> SplitOutsideClasses(string text, char separator)
    {
        var parts = new List<string>();
        var start = 0;
        var inClass = false;
        for (var i = 0; i < text.Length; i++)
        {
            if (inClass)
            {
                inClass = text[i] != ']';
                continue;
            }

            inClass = text[i] == '[';
            if (text[i] == separator)
            {
                parts.Add(text[start..i]);
                start = i + 1;
            }
        }

        parts.Add(text[start..]);
        return parts;
    }

    /// <summary>One segment's pattern: literals, <c>*</c>, <c>?</c> and classes; or <c>**</c>.</summary>
    private sealed class Segment
    {
        private readonly Token[] _tokens;

        private Segment(Token[] tokens, bool isGlobstar)
        {
            _tokens = tokens;
            IsGlobstar = isGlobstar;
        }

        public bool IsGlobstar { get; }

        public static Segment Compile(string text)
        {
            if (text == "**")
            {
                return new Segment([], isGlobstar: true);
            }

            var tokens = new List<Token>();
            var literal = 0;
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                if (c is not ('*' or '?' or '['))
                {
                    continue;
                }

                if (literal < i)
                {
                    tokens.Add(new Token(TokenKind.Literal, text[literal..i]));
                }

                if (c == '[')
                {
                    var close = text.IndexOf(']', i);
                    tokens.Add(Token.Class(text[(i + 1)..close]));
                    i = close;
                }
                else
                {
                    tokens.Add(new Token(c == '*' ? TokenKind.Star : TokenKind.One, ""));
                }

                literal = i + 1;
            }

            if (literal < text.Length)
            {
                tokens.Add(new Token(TokenKind.Literal, text[literal..]));
            }

            return new Segment([.. tokens], isGlobstar: false);
        }

        /// <summary>Character-level last-star matching; a literal or class token consumes a fixed length.</summary>
        public bool IsMatch(ReadOnlySpan<char> text)
        {
            var t = 0;
            var s = 0;
            var starT = -1;
            var starS = 0;
            while (s < text.Length)
            {
                if (t < _tokens.Length && _tokens[t].Kind == TokenKind.Star)
                {
                    starT = t++;
                    starS = s;
                }
                else if (t < _tokens.Length && _tokens[t].TryMatch(text, s, out var length))
                {
                    t++;
                    s += length;
                }
                else if (starT >= 0)
                {
                    t = starT + 1;
                    s = ++starS;
                }
                else
                {
                    return false;
                }
            }

            while (t < _tokens.Length && _tokens[t].Kind == TokenKind.Star)
            {
                t++;
            }

            return t == _tokens.Length;
        }
    }

    private enum TokenKind
    {
        Literal,
        Star,
        One,
        Class,
        NegatedClass,
    }

    /// <summary>A literal run (<see cref="Text"/>), <c>*</c>, <c>?</c>, or a class whose <see cref="Text"/> holds inclusive ranges as pairs.</summary>
    private readonly record struct Token(TokenKind Kind, string Text)
    {
        public static Token Class(string body)
        {
            var negated = body.StartsWith('!');
            if (negated)
            {
                body = body[1..];
            }

            var ranges = new System.Text.StringBuilder();
            for (var i = 0; i < body.Length; i++)
            {
                if (i + 2 < body.Length && body[i + 1] == '-')
                {
                    ranges.Append(body[i]).Append(body[i + 2]);
                    i += 2;
                }
                else
                {
                    ranges.Append(body[i]).Append(body[i]);
                }
            }

            return new Token(negated ? TokenKind.NegatedClass : TokenKind.Class, ranges.ToString());
        }

        public bool TryMatch(ReadOnlySpan<char> text, int at, out int length)
        {
            switch (Kind)
            {
                case TokenKind.Literal:
                    length = Text.Length;
                    return text[at..].StartsWith(Text, StringComparison.Ordinal);
                case TokenKind.One:
                    length = 1;
                    return true;
                default:
                    length = 1;
                    var c = text[at];
                    var inClass = false;
                    for (var i = 0; i < Text.Length && !inClass; i += 2)
                    {
                        inClass = c >= Text[i] && c <= Text[i + 1];
                    }

                    return inClass == (Kind == TokenKind.Class);
            }
        }
    }
}
