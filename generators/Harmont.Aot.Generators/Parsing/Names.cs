using System.Text;
using Microsoft.CodeAnalysis.CSharp;

namespace Harmont.Aot.Generators.Parsing;

/// <summary>Name conventions the generator applies: default step keys, identifiers and hint names.</summary>
internal static class Names
{
    /// <summary>
    /// <c>RunTests</c> → <c>run-tests</c>, <c>BuildHTTPServer</c> → <c>build-http-server</c>,
    /// <c>Net9Build</c> → <c>net9-build</c>. Underscores become dashes.
    /// </summary>
    public static string ToKebabCase(string name)
    {
        var builder = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (c is '_' or '-')
            {
                AppendDash(builder);
                continue;
            }

            if (char.IsUpper(c))
            {
                var previous = i > 0 ? name[i - 1] : '\0';
                var next = i + 1 < name.Length ? name[i + 1] : '\0';
                // A word starts after a lower-case letter or digit, and at the last capital of an
                // acronym that is followed by a lower-case letter ("HTTPServer" → "http-server").
                if (char.IsLower(previous) || char.IsDigit(previous) || (char.IsUpper(previous) && char.IsLower(next)))
                {
                    AppendDash(builder);
                }

                builder.Append(char.ToLowerInvariant(c));
                continue;
            }

            builder.Append(c);
        }

        if (builder.Length > 0 && builder[builder.Length - 1] == '-')
        {
            builder.Length--;
        }

        return builder.ToString();
    }

    /// <summary>Prefixes <c>@</c> where the name is a reserved keyword, so it can be written in code.</summary>
    public static string EscapeIdentifier(string name) =>
        SyntaxFacts.GetKeywordKind(name) == SyntaxKind.None ? name : "@" + name;

    /// <summary>A file name derived from the type's full name; only characters safe in any hint name survive.</summary>
    public static string ToHintName(string fullName)
    {
        var builder = new StringBuilder(fullName.Length + 5);
        foreach (var c in fullName)
        {
            builder.Append(char.IsLetterOrDigit(c) || c is '.' or '_' ? c : '_');
        }

        return builder.Append(".g.cs").ToString();
    }

    private static void AppendDash(StringBuilder builder)
    {
        if (builder.Length > 0 && builder[builder.Length - 1] != '-')
        {
            builder.Append('-');
        }
    }
}
