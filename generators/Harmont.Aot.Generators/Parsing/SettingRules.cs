using Harmont.Aot.Keys;
using Harmont.Aot.Model;

namespace Harmont.Aot.Generators.Parsing;

/// <summary>What makes a glob, a working directory or an environment variable name acceptable; each returns the problem, or null.</summary>
internal static class SettingRules
{
    /// <summary>The one glob syntax, shared with the runtime's matcher: see <see cref="GlobSyntax.CheckGlob"/>.</summary>
    public static string? CheckGlob(string? glob) => GlobSyntax.CheckGlob(glob);

    /// <summary>A working directory is relative, non-empty, and never climbs out of the workspace: see <see cref="SettingSyntax.CheckCwd"/>.</summary>
    public static string? CheckCwd(string cwd) => SettingSyntax.CheckCwd(cwd);

    /// <summary>POSIX portable names, shared with the IR reader: see <see cref="SettingSyntax.IsVariableName"/>.</summary>
    public static bool IsVariableName(string? name) => SettingSyntax.IsVariableName(name);
}
