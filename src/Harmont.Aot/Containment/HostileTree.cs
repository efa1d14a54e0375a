namespace Harmont.Aot.Containment;

/// <summary>
/// Deleting and sizing a tree that a step, an entry or a bundle filled: on Linux by handle, never following
/// a link (<see cref="ContainedTree"/>); elsewhere through System.IO, which removes links without following them.
/// </summary>
internal static class HostileTree
{
    /// <summary>Removes <paramref name="path"/> and everything under it; nothing happens when it is gone.</summary>
    public static void Delete(string path)
    {
        if (OperatingSystem.IsLinux())
        {
            ContainedTree.DeleteTree(path);
        }
        else if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }

    /// <summary>Bytes under <paramref name="path"/>, each link counted as a link (docs/workspaces.md, containment).</summary>
    public static long Size(string path) =>
        OperatingSystem.IsLinux()
            ? ContainedTree.Size(path)
            : new DirectoryInfo(path).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
                .Where(f => f.LinkTarget is null).Sum(f => f.Length);
}
