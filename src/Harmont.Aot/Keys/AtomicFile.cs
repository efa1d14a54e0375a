namespace Harmont.Aot.Keys;

/// <summary>Replaces a file whole: a reader sees the old content or the new, never part of either.</summary>
internal static class AtomicFile
{
    /// <summary>
    /// Writes <paramref name="bytes"/> to a temporary file beside <paramref name="path"/> and renames it over
    /// <paramref name="path"/>. Concurrent writers race; the last rename wins, and either file is whole.
    /// </summary>
    public static void Write(string path, byte[] bytes)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllBytes(temporary, bytes);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
