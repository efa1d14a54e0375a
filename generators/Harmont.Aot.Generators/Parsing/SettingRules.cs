using System.Linq;
using Harmont.Aot.Keys;

namespace Harmont.Aot.Generators.Parsing;

/// <summary>What makes a glob, a working directory or an environment variable name acceptable; each returns the problem, or null.</summary>
internal static class SettingRules
{
    /// <summary>The one glob syntax, shared with the runtime's matcher: see <see cref="GlobSyntax.CheckGlob"/>.</summary>
    public static string? CheckGlob(string? glob) => GlobSyntax.CheckGlob(glob);

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
