// This file is compiled into the runtime and, linked, into the netstandard2.0 generator, so a glob
// the generator accepts at compile time is exactly a glob the runtime can compile into a Glob.
namespace Harmont.Aot.Keys;

/// <summary>The syntax an onChange glob must follow; the generator reports the problem at compile time, <see cref="Glob"/> refuses it at run time.</summary>
internal static class GlobSyntax
{
    private static readonly char[] Backslash = ['\\'];

    /// <summary>
    /// A glob is relative to the repository root, uses '/' separators, has no empty, '.' or '..'
    /// segment, uses '**' only as a whole segment, and closes every '[' and '{' it opens.
    /// Returns the problem, phrased to follow "the glob …", or null when the glob is acceptable.
    /// </summary>
    public static string? CheckGlob(string? glob)
    {
        if (string.IsNullOrWhiteSpace(glob))
        {
            return "is empty; give a pattern such as \"src/**\" or \"*.csproj\"";
        }

        if (glob![0] == '/' || (glob.Length > 1 && glob[1] == ':'))
        {
            return "is absolute; patterns are relative to the repository root, e.g. \"src/**\"";
        }

        if (glob.IndexOfAny(Backslash) >= 0) // netstandard2.0 has no Contains(char).
        {
            return "contains '\\'; separate directories with '/'";
        }

        foreach (var segment in glob.Split('/'))
        {
            if (segment.Length == 0 || segment == "." || segment == "..")
            {
                return "has an empty, '.' or '..' segment; write a plain relative path such as \"src/**/*.cs\"";
            }

            if (segment.Contains("**") && segment != "**")
            {
                return $"uses '**' inside the segment \"{segment}\"; '**' must be a whole segment, as in \"src/**/*.cs\"";
            }
        }

        // Inside a class every character but ']' is a member, so '{', ',' and '}' there are literal.
        var inClass = false;
        var braces = 0;
        foreach (var c in glob)
        {
            if (inClass)
            {
                inClass = c != ']';
                continue;
            }

            inClass = c == '[';
            braces += c == '{' ? 1 : c == '}' ? -1 : 0;
            if (c == ']' || braces < 0 || braces > 1)
            {
                return "has unbalanced or nested '[' ']' or '{' '}'";
            }
        }

        return inClass || braces != 0 ? "has an unclosed '[' or '{'" : null;
    }
}
