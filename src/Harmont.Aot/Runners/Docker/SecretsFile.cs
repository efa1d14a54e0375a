using System.Text;

namespace Harmont.Aot.Runners.Docker;

/// <summary>
/// A step's secrets as a shell file bind-mounted read-only into its container. Not container Env:
/// <c>docker commit</c> copies a container's Env into the image, and a secret must not outlive its step.
/// </summary>
/// <remarks>
/// The file lives on a tmpfs (<c>/dev/shm</c>), so the value never reaches a disk, and only from just
/// before the container is created until it has started: the mount keeps the inode for the container,
/// so the name is unlinked at once. While it has a name, its writer holds an exclusive flock on it; a
/// run that is killed in that window drops the lock, and the next run's <see cref="CollectStale"/>
/// deletes the file.
/// </remarks>
internal sealed class SecretsFile : IDisposable
{
    // /dev is a per-container tmpfs: the mount point lands there, not in the image a commit makes.
    public const string ContainerPath = "/dev/harmont-secrets.sh";

    /// <summary>Where secrets files are written when the host has it.</summary>
    public const string SharedMemory = "/dev/shm";

    private const string Prefix = "harmont-secrets-";
    private readonly FileStream _lock;

    private SecretsFile(string path, FileStream @lock)
    {
        HostPath = path;
        _lock = @lock;
    }

    public string HostPath { get; }

    /// <summary>The bind that mounts the file read-only at <see cref="ContainerPath"/>.</summary>
    public string Bind => $"{HostPath}:{ContainerPath}:ro";

    /// <summary>The command, preceded by sourcing the secrets so they are exported to it.</summary>
    public static string Wrap(string command) => $"set -a && . {ContainerPath} && set +a && {command}";

    /// <summary>Writes the file to <see cref="SharedMemory"/>, or to <paramref name="fallbackDirectory"/> on a host without it.</summary>
    public static SecretsFile Write(IReadOnlyList<KeyValuePair<string, string>> secrets, string fallbackDirectory)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        var text = new StringBuilder();
        foreach (var (name, value) in secrets)
        {
            // Single quotes keep every byte literal; a quote inside is closed, escaped and reopened.
            text.Append(name).Append("='").Append(value.Replace("'", "'\\''", StringComparison.Ordinal)).Append("'\n");
        }

        var bytes = new UTF8Encoding(false).GetBytes(text.ToString());
        var directory = Directory.Exists(SharedMemory) ? SharedMemory : fallbackDirectory;
        for (var attempt = 1; ; attempt++)
        {
            var path = Path.Combine(directory, $"{Prefix}{Guid.NewGuid():N}.sh");
            FileStream stream;
            try
            {
                // FileShare.None is an exclusive flock, held until Dispose.
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }

                stream = new FileStream(path, options);
            }
            catch (IOException) when (attempt < 3)
            {
                // Another run's sweep saw the file between its creation and its lock, took it for a dead
                // run's, and deletes it: a fresh name avoids the race.
                continue;
            }

            var file = new SecretsFile(path, stream);
            try
            {
                // Locked, it is safe from sweeps; but one that won the race may have unlinked it just before.
                if (!File.Exists(path))
                {
                    file.Dispose();
                    continue;
                }

                stream.Write(bytes);
                stream.Flush();
                return file;
            }
            catch
            {
                file.Dispose();
                throw;
            }
        }
    }

    /// <summary>
    /// Deletes the secrets files in <paramref name="directory"/> that no live run holds (their writer was
    /// killed before its container started); returns how many.
    /// </summary>
    public static int CollectStale(string directory = SharedMemory)
    {
        if (!Directory.Exists(directory))
        {
            return 0;
        }

        var removed = 0;
        foreach (var path in Directory.EnumerateFiles(directory, Prefix + "*.sh"))
        {
            try
            {
                if (new FileInfo(path).LinkTarget is not null)
                {
                    continue;
                }

                using var probe = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None);
                File.Delete(path);
                removed++;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Held by a live run, gone already, or another user's: not ours to take.
            }
        }

        return removed;
    }

    /// <summary>Unlinks the file, then drops its lock; a container that has started still reads it through its mount.</summary>
    public void Dispose()
    {
        try
        {
            File.Delete(HostPath);
        }
        finally
        {
            _lock.Dispose();
        }
    }
}
