using System.Linq;

namespace Harmont.Aot.Generators.Parsing;

/// <summary>What makes a glob, a working directory or an environment variable name acceptable; each returns the problem, or null.</summary>
internal static class SettingRules
{
    /// <summary>
    /// A glob is relative to the repository root, uses '/' separators, has no empty, '.' or '..'
    /// segment, uses '**' only as a whole segment, and closes every '[' and '{' it opens.
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

        if (glob.IndexOf('\\') >= 0)
        {
            return "contains '\\'; separate directories with '/'";
        }

        foreach (var segment in glob.Split('/'))
        {
            if (segment.Length == 0 || segment == "." || segment == "..")
            {
                return $"has an empty, '.' or '..' segment; write a plain relative path such as \"src/**/*.cs\"";
            }

            if (segment.Contains("**") && segment != "**")
            {
                return $"uses '**' inside the segment \"{segment}\"; '**' must be a whole segment, as in \"src/**/*.cs\"";
            }
        }

        var brackets = 0;
        var braces = 0;
        foreach (var c in glob)
        {
            brackets += c == '[' ? 1 : c == ']' ? -1 : 0;
            braces += c == '{' ? 1 : c == '}' ? -1 : 0;
            if (brackets < 0 || braces < 0 || brackets > 1 || braces > 1)
            {
                return "has unbalanced or nested '[' ']' or '{' '}'";
            }
        }

        return brackets != 0 || braces != 0 ? "has an unclosed '[' or '{'" : null;
    }

    /// <summary>A working directory is relative, non-empty, and never climbs out of the workspace.</summary>
    public static string? CheckCwd(string cwd)
    {
        if (string.IsNullOrWhiteSpace(cwd))
        {
            return "is empty; leave Cwd unset to run in the workspace root";
        }

        if (cwd[0] == '/' || cwd[0] == '~' || (cwd.Length > 1 && cwd[1] == ':'))
        {
            return "is absolute";
        }

        return cwd.Replace('\\', '/').Split('/').Any(s => s == "..") ? "leaves the workspace with '..'" : null;
    }

    /// <summary>POSIX portable names: letters, digits and '_', not starting with a digit.</summary>
    public static bool IsVariableName(string? name) =>
        !string.IsNullOrEmpty(name)
        && !(name![0] >= '0' && name[0] <= '9')
        && name.All(c => c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
}
