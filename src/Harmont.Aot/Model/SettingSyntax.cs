// This file is compiled into the runtime and, linked, into the netstandard2.0 generator, so a name or a
// working directory an IR document may use is exactly one the DSL accepts at compile time (HM0014, HM0015).
namespace Harmont.Aot.Model;

/// <summary>What makes an environment variable name or a working directory acceptable, for the generator and the IR reader alike.</summary>
internal static class SettingSyntax
{
    /// <summary>POSIX portable names: letters, digits and '_', not starting with a digit.</summary>
    public static bool IsVariableName(string? name)
    {
        if (string.IsNullOrEmpty(name) || (name![0] >= '0' && name[0] <= '9'))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A working directory is relative, non-empty, and never climbs out of the workspace; returns the problem, or null.</summary>
    public static string? CheckCwd(string? cwd)
    {
        if (string.IsNullOrWhiteSpace(cwd))
        {
            return "is empty; leave Cwd unset to run in the workspace root";
        }

        if (cwd![0] == '/' || cwd[0] == '~' || (cwd.Length > 1 && cwd[1] == ':'))
        {
            return "is absolute";
        }

        foreach (var segment in cwd.Replace('\\', '/').Split('/'))
        {
            if (segment == "..")
            {
                return "leaves the workspace with '..'";
            }
        }

        return null;
    }
}
