using System.Runtime.Versioning;
using System.Security.Cryptography;
using Harmont.Aot.Containment;
using Harmont.Aot.Native.Linux;

namespace Harmont.Aot.Workspaces;

/// <summary>
/// The one place a hit differs from a cold run by design (docs/workspaces.md): a source file that changed since the
/// entry was made, and that the cached steps had themselves changed or deleted. The child sees the new file
/// over the steps' old work, where a cold run would have run the steps on it; <c>explain</c> warns of each.
/// </summary>
internal static class OverwrittenSource
{
    private const string WhiteoutPrefix = ".wh.";

    /// <summary>The changed files of <paramref name="delta"/> that the cached output (<paramref name="layers"/>, topmost first) does not hold as <paramref name="then"/> recorded them.</summary>
    [SupportedOSPlatform("linux")]
    public static IReadOnlyList<string> Find(IReadOnlyList<string> layers, SourceManifest then, SourceDelta delta)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(then);
        ArgumentNullException.ThrowIfNull(delta);
        var changed = delta.Written.Where(f => then.Files.TryGetValue(f, out var old) && !old.IsDirectory).ToList();
        if (changed.Count == 0 || layers.Count == 0)
        {
            return [];
        }

        var roots = layers.Select(ContainedRoot.Open).ToList();
        try
        {
            return [.. changed.Where(file => !Holds(roots, file, then.Files[file]))];
        }
        finally
        {
            roots.ForEach(r => r.Dispose());
        }
    }

    /// <summary>The warning for one such file.</summary>
    public static string Describe(string step, string file) =>
        $"'{file}' changed in the source since step '{step}' was cached, and '{step}' had itself changed or deleted it: " +
        $"its children see your new '{file}' over the step's old output, where a cold run would run '{step}' on it. " +
        $"Add '{file}' to the step's onChange globs so an edit re-runs it.";

    // Whether the output's copy of the file is still the recorded source file, looking down the layers.
    [SupportedOSPlatform("linux")]
    private static bool Holds(List<ContainedRoot> layers, string file, SourceFile recorded)
    {
        foreach (var layer in layers)
        {
            if (layer.TryStat(file, out var status) == Errno.None)
            {
                return !status.IsCharacterDevice && status.Mode == recorded.Mode && HashOf(layer, file, status) == recorded.Hash;
            }

            if (IsWhitedOut(layer, file))
            {
                return false;
            }
        }

        return false;
    }

    [SupportedOSPlatform("linux")]
    private static bool IsWhitedOut(ContainedRoot layer, string file)
    {
        var slash = file.LastIndexOf('/');
        var whiteout = slash < 0 ? WhiteoutPrefix + file : $"{file[..(slash + 1)]}{WhiteoutPrefix}{file[(slash + 1)..]}";
        if (layer.TryStat(whiteout, out _) == Errno.None)
        {
            return true;
        }

        // An opaque directory on the way hides everything below it.
        for (var parent = RelativePath.ParentOf(file); parent.Length > 0; parent = RelativePath.ParentOf(parent))
        {
            using var directory = layer.TryOpenDirectory(parent);
            if (directory is not null && LinuxSyscalls.GetAttribute(directory, OverlayLayer.OpaqueAttribute, out var opaque) == Errno.None && opaque is not null)
            {
                return true;
            }
        }

        return false;
    }

    [SupportedOSPlatform("linux")]
    private static string HashOf(ContainedRoot layer, string file, FileStatus status)
    {
        if (status.IsSymlink)
        {
            return Convert.ToHexStringLower(SHA256.HashData(layer.ReadLink(file)));
        }

        using var handle = layer.TryOpen(file, LinuxSyscalls.ReadOnlyFlag, 0, out var error);
        if (error != Errno.None)
        {
            return "";
        }

        using var stream = new FileStream(handle, FileAccess.Read);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
