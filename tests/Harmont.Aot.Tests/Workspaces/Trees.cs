using System.Runtime.Versioning;
using Harmont.Aot.Native.Linux;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Tests.Workspaces;

/// <summary>Writes, reads and inspects small directory trees for the workspace tests.</summary>
[SupportedOSPlatform("linux")]
internal static class Trees
{
    public static void Write(string root, string relative, string content)
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    public static void WriteBytes(string root, string relative, byte[] content)
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
    }

    /// <summary>Every file and symlink under <paramref name="root"/> with its content (links as <c>-> target</c>).</summary>
    public static SortedDictionary<string, string> Read(string root)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            var info = new FileInfo(path);
            var relative = Path.GetRelativePath(root, path);
            if (info.LinkTarget is { } target)
            {
                result[relative] = "-> " + target;
            }
            else if (!Directory.Exists(path))
            {
                result[relative] = File.ReadAllText(path);
            }
        }

        return result;
    }

    public static SortedDictionary<string, string> Expect(params (string Path, string Content)[] entries)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (path, content) in entries)
        {
            result[path] = content;
        }

        return result;
    }

    /// <summary>Mount points at or under <paramref name="path"/>, straight from /proc/self/mountinfo.</summary>
    public static IReadOnlyList<string> MountsUnder(string path) => [.. MountTable.Under(path).Select(m => m.MountPoint)];

    /// <summary>Whether FIEMAP reports every extent of the file as shared.</summary>
    public static async Task<bool> AllExtentsShared(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        var error = LinuxSyscalls.AllExtentsShared(handle, out var shared, out var extents);
        await Assert.That(error == Errno.None).IsTrue().Because($"FIEMAP on {path} failed: {error.Describe()}");
        await Assert.That(extents > 0).IsTrue().Because($"{path} has no extents to compare");
        return shared;
    }

    /// <summary>The strategy named, as the tests drive it (no probing: each test proves its own).</summary>
    public static IWorkspaceStrategy Strategy(string name) => WorkspaceStrategies.Create(name, Environment.GetEnvironmentVariable);
}
