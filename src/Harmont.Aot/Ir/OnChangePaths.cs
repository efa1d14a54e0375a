using System.Text;
using Harmont.Aot.Keys;
using Harmont.Aot.Model;
using Harmont.Aot.Native.Linux;

namespace Harmont.Aot.Ir;

/// <summary>
/// Gives an <c>on_change</c> entry harmont-py's meaning: a path relative to the repository root, a directory
/// covering every file under it (<c>src</c> becomes the glob <c>src/**</c>) and a file only itself.
/// </summary>
/// <remarks>
/// The file or directory is looked up on disk without following a final symlink (a symlink is one entry of
/// the source listing, hashed as its target text). A path that does not exist is an error naming it and the
/// step, as in harmont-py. An entry that does not exist but is written as a glob (<c>src/**/*.cs</c>) is
/// read as one: that is how <c>render</c> writes this runner's onChange globs, which v0 has no field for.
/// </remarks>
internal static class OnChangePaths
{
    private const string PathFix = "on_change paths are files or directories relative to the repository root; fix the path or remove it";

    /// <summary>The onChange glob that matches what <paramref name="entry"/> names under <paramref name="sourceRoot"/>.</summary>
    public static string ToGlob(IrField entry, string stepKey, string sourceRoot)
    {
        var text = entry.RequiredString("give each path as a non-empty string, e.g. \"src\" or \"Makefile\"");
        if (text[0] == '/')
        {
            throw entry.Error($"is \"{IrField.Printable(text)}\", an absolute path", PathFix);
        }

        var segments = text.Split('/').Where(s => s.Length > 0 && s != ".").ToList();
        if (segments.Contains(".."))
        {
            throw entry.Error($"is \"{IrField.Printable(text)}\", which leaves the repository with '..'", PathFix);
        }

        if (segments.Count == 0)
        {
            return "**"; // "." is the whole tree.
        }

        var relative = string.Join('/', segments);
        switch (Kind(Path.Combine(sourceRoot, relative), out var problem))
        {
            case EntryKind.Directory:
                return Escape(entry, relative, stepKey) + "/**";
            case EntryKind.File:
                return Escape(entry, relative, stepKey);
            case EntryKind.Missing when text.AsSpan().IndexOfAny("*?[{") >= 0 && !text.Any(char.IsControl) && GlobSyntax.CheckGlob(text) is null:
                return text;
            case EntryKind.Missing when problem is not null:
                throw entry.Error($"is \"{IrField.Printable(text)}\" (step '{stepKey}'), which cannot be looked up under {sourceRoot}: {problem}", PathFix);
            default:
                throw entry.Error($"is \"{IrField.Printable(text)}\" (step '{stepKey}'), which names no file or directory under {sourceRoot}", PathFix);
        }
    }

    // A name with glob characters still means itself: each becomes a one-character class ("[*]").
    private static string Escape(IrField entry, string relative, string stepKey)
    {
        if (relative.Contains(']', StringComparison.Ordinal) || relative.Contains('\\', StringComparison.Ordinal))
        {
            throw entry.Error(
                $"is \"{IrField.Printable(relative)}\" (step '{stepKey}'), whose ']' or '\\' an onChange pattern cannot match literally",
                "name the directory that holds it instead");
        }

        var escaped = new StringBuilder(relative.Length);
        foreach (var c in relative)
        {
            _ = c is '*' or '?' or '[' or '{' or '}' ? escaped.Append('[').Append(c).Append(']') : escaped.Append(c);
        }

        return escaped.ToString();
    }

    private enum EntryKind
    {
        Missing,
        File,
        Directory,
    }

    // Missing with a problem when the lookup failed for another reason than absence (EACCES, ENAMETOOLONG).
    private static EntryKind Kind(string full, out string? problem)
    {
        problem = null;
        if (OperatingSystem.IsLinux())
        {
            var error = LinuxSyscalls.Stat(full, out var status);
            if (error != Errno.None)
            {
                problem = error is Errno.ENOENT or Errno.ENOTDIR ? null : error.Describe();
                return EntryKind.Missing;
            }

            return status.IsDirectory ? EntryKind.Directory : EntryKind.File;
        }

        var info = new FileInfo(full);
        return !info.Exists && !Directory.Exists(full) ? EntryKind.Missing
            : info.Attributes.HasFlag(FileAttributes.Directory) && !info.Attributes.HasFlag(FileAttributes.ReparsePoint) ? EntryKind.Directory
            : EntryKind.File;
    }
}
