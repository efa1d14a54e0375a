using System.Diagnostics;
using System.Globalization;
using System.Text;
using Harmont.Aot.Native.Linux;

namespace Harmont.Aot.Workspaces;

/// <summary>Reads <c>/proc/self/mountinfo</c> and takes down the mounts the workspace layer made.</summary>
internal static class MountTable
{
    private const string MountInfo = "/proc/self/mountinfo";

    /// <summary>Mount points at or under <paramref name="path"/>, deepest first, with their filesystem type.</summary>
    public static IReadOnlyList<(string MountPoint, string FileSystemType)> Under(string path)
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(MountInfo))
        {
            return [];
        }

        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var found = new List<(string, string)>();
        foreach (var line in File.ReadLines(MountInfo))
        {
            // id parent major:minor root mount-point options [optional...] - fstype source super-options
            var fields = line.Split(' ');
            var separator = Array.IndexOf(fields, "-");
            if (fields.Length < 5 || separator < 0 || separator + 1 >= fields.Length)
            {
                continue;
            }

            var mountPoint = Unescape(fields[4]);
            if (mountPoint == root || mountPoint.StartsWith(root + "/", StringComparison.Ordinal))
            {
                found.Add((mountPoint, fields[separator + 1]));
            }
        }

        return [.. found.OrderByDescending(m => m.Item1.Length)];
    }

    /// <summary>Whether something is mounted exactly at <paramref name="path"/>.</summary>
    public static bool IsMountPoint(string path)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        return Under(full).Any(m => m.MountPoint == full);
    }

    /// <summary>
    /// Unmounts everything at or under <paramref name="path"/>. A busy mount is retried, then detached
    /// lazily so it leaves the table; a fuse mount a non-root user made goes through <c>fusermount -u</c>.
    /// </summary>
    public static void UnmountUnder(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        List<string>? failures = null;
        foreach (var (mountPoint, type) in Under(path))
        {
            var error = UnmountOne(mountPoint, type);
            if (error is not null)
            {
                (failures ??= []).Add($"{mountPoint}: {error}");
            }
        }

        if (failures is not null)
        {
            throw new IOException($"could not unmount workspace mounts: {string.Join("; ", failures)}");
        }
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static string? UnmountOne(string mountPoint, string type)
    {
        for (var attempt = 0; ; attempt++)
        {
            var error = LinuxSyscalls.Unmount(mountPoint, detach: false);
            switch (error)
            {
                case Errno.None or Errno.EINVAL or Errno.ENOENT:
                    return null; // EINVAL: no longer a mount point (another path took it down).
                case Errno.EBUSY when attempt < 20:
                    Thread.Sleep(25);
                    continue;
                case Errno.EBUSY:
                    return LinuxSyscalls.Unmount(mountPoint, detach: true) is var lazy && lazy == Errno.None ? null : $"umount2: {lazy.Describe()}";
                case Errno.EPERM when type.StartsWith("fuse", StringComparison.Ordinal):
                    return FuseUnmount(mountPoint);
                default:
                    return $"umount2: {error.Describe()}";
            }
        }
    }

    // An unprivileged user may only take down its own fuse mounts, through the setuid helper.
    private static string? FuseUnmount(string mountPoint)
    {
        foreach (var helper in new[] { "fusermount3", "fusermount" })
        {
            try
            {
                using var process = Process.Start(new ProcessStartInfo(helper, ["-u", "-z", mountPoint])
                {
                    RedirectStandardError = true,
                    UseShellExecute = false,
                })!;
                var error = process.StandardError.ReadToEnd();
                process.WaitForExit();
                return process.ExitCode == 0 ? null : $"{helper} -u: {error.Trim()}";
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not installed under this name: try the other.
            }
        }

        return "neither fusermount3 nor fusermount is installed";
    }

    // mountinfo escapes space, tab, newline and backslash as \ooo.
    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var builder = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length && int.TryParse(field.AsSpan(i + 1, 3), NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                builder.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                builder.Append(field[i]);
            }
        }

        return builder.ToString();
    }
}
