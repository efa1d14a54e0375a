using System.Globalization;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using Harmont.Aot.Containment;
using Harmont.Aot.Native.Linux;
using Harmont.Aot.Workspaces;
using Microsoft.Win32.SafeHandles;

namespace Harmont.Aot.Tuning;

/// <summary>
/// A tree hash of what a step produced (docs/stats-and-tune.md): every entry of its cached output workspace
/// by path, type, mode and content, leaving out source files exactly as the run's source had them, so a
/// docs edit the step ignored leaves the digest alone. A layered entry hashes only its own upper layer
/// (whiteouts included), which is cheap and compares with other layers over the same base.
/// </summary>
internal static class OutputDigest
{
    private const string TreePrefix = "tree:";
    private const string LayerPrefix = "layer:";

    /// <summary>
    /// Hashes the entry in <paramref name="entryDirectory"/> on the thread pool, off the step's path; the task
    /// gives null when the entry cannot be read (a digest is evidence for advice, never a reason to fail).
    /// </summary>
    public static Task<string?> StartOfEntry(string entryDirectory, bool layer) =>
        Task.Run(() => OperatingSystem.IsLinux() ? OfTree(Path.Combine(entryDirectory, "workspace"), Path.Combine(entryDirectory, "sources"), layer) : null);

    /// <summary>Whether two digests can be compared: both known and of the same kind.</summary>
    public static bool Comparable(string? a, string? b) =>
        a is not null && b is not null && a.StartsWith(TreePrefix, StringComparison.Ordinal) == b.StartsWith(TreePrefix, StringComparison.Ordinal);

    /// <summary>The digest of <paramref name="workspace"/> against the source manifest in <paramref name="sourcesFile"/>; null when unreadable.</summary>
    [SupportedOSPlatform("linux")]
    public static string? OfTree(string workspace, string sourcesFile, bool layer)
    {
        try
        {
            var source = File.Exists(sourcesFile) ? SourceManifest.Read(sourcesFile).Files : new Dictionary<string, SourceFile>();
            var sourceDirectories = DirectoriesOf(source.Keys);
            using var root = ContainedRoot.Open(workspace);
            var entries = ContainedTree.Walk(root);
            entries.Sort((a, b) => string.CompareOrdinal(a.Relative, b.Relative));
            using var tree = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (relative, status) in entries)
            {
                seen.Add(relative);
                var record = Describe(root, relative, status, source, sourceDirectories);
                if (record is not null)
                {
                    tree.AppendData(Encoding.UTF8.GetBytes($"{relative}\0{record}\0"));
                }
            }

            // A clone holds the whole tree, so a source file missing from it is one the step deleted; a layer holds only changes.
            var gone = layer ? [] : source.Keys.Where(p => !seen.Contains(p) && !source[p].IsDirectory).Order(StringComparer.Ordinal).ToList();
            foreach (var path in gone)
            {
                tree.AppendData(Encoding.UTF8.GetBytes($"{path}\0gone\0"));
            }

            return (layer ? LayerPrefix : TreePrefix) + Convert.ToHexStringLower(tree.GetHashAndReset())[..32];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return null;
        }
    }

    // What one entry contributes; null for what the source already had, as it had it.
    [SupportedOSPlatform("linux")]
    private static string? Describe(ContainedRoot root, string relative, FileStatus status, IReadOnlyDictionary<string, SourceFile> source, HashSet<string> sourceDirectories)
    {
        var mode = Convert.ToString((int)(status.Mode & 0xffff), 8);
        if (status.IsDirectory)
        {
            return sourceDirectories.Contains(relative) ? null : $"dir {mode}";
        }

        if (status.IsCharacterDevice && status.SpecialDevice == 0)
        {
            return "whiteout";
        }

        string? hash = null;
        if (status.IsSymlink)
        {
            hash = Convert.ToHexStringLower(SHA256.HashData(root.ReadLink(relative)));
        }
        else if (status.IsRegular)
        {
            using var file = root.TryOpen(relative, LinuxSyscalls.ReadOnlyFlag, 0, out var error);
            hash = error == Errno.None ? HashOf(file) : throw root.Fail("read", relative, error);
        }

        return source.TryGetValue(relative, out var was) && was.Mode == status.Mode && was.Hash == hash ? null : $"{mode} {hash}";
    }

    private static string HashOf(SafeFileHandle file)
    {
        using var stream = new FileStream(file, FileAccess.Read, bufferSize: 0);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static HashSet<string> DirectoriesOf(IEnumerable<string> files)
    {
        var directories = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            // Stops at the first ancestor already known: its own ancestors are known too.
            var cut = file.LastIndexOf('/');
            while (cut > 0 && directories.Add(file[..cut]))
            {
                cut = file.LastIndexOf('/', cut - 1);
            }
        }

        return directories;
    }
}
