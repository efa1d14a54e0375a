using System.Runtime.Versioning;
using Harmont.Aot.Native;
using Harmont.Aot.Native.Linux;
using Microsoft.Win32.SafeHandles;
using static Harmont.Aot.Cache.CacheBundleFormat;

namespace Harmont.Aot.Cache;

/// <summary>How a member's path is reached inside staging: made and opened one component at a time, no link followed.</summary>
[SupportedOSPlatform("linux")]
internal sealed partial class BundleExtractor
{
    // The directory `path` names, made (with any missing directory above it) when needed. Each component is
    // opened without following a link, so a member whose path runs through a link or a file is refused.
    private SafeFileHandle OpenDirectory(string name, string path)
    {
        var current = _root.OpenDirectory("");
        if (path.Length == 0)
        {
            return current;
        }

        try
        {
            var parts = path.Split('/');
            var offset = 0;
            foreach (var part in parts)
            {
                var leaf = PathBytes.EncodeTerminated(part);
                var error = LinuxSyscalls.MakeDirectoryAt(current, leaf, NewDirectory);
                if (error is not (Errno.None or Errno.EEXIST))
                {
                    throw Reject(name, $"cannot be placed: {Prefix}{path[..(offset + part.Length)]} cannot be made: {error.Describe()}");
                }

                offset += part.Length + 1;
                var next = Open(name, current, leaf, offset - 1, path);
                current.Dispose();
                current = next;
            }

            return current;
        }
        catch
        {
            current.Dispose();
            throw;
        }
    }

    private static SafeFileHandle Open(string name, SafeFileHandle parent, byte[] leaf, int end, string? path = null)
    {
        var error = LinuxSyscalls.OpenBeneath(parent, leaf, ReadDirectory | LinuxSyscalls.OpenDirectoryFlag, 0, out var handle);
        if (error == Errno.None)
        {
            return handle;
        }

        handle.Dispose();
        var where = path is null ? "" : $" ({Prefix}{path[..Math.Min(end, path.Length)]})";
        throw Reject(name, error is Errno.ELOOP or Errno.ENOTDIR or Errno.EXDEV
            ? $"lies beyond a link or a file the bundle made{where}; nothing in a bundle is ever followed"
            : $"cannot be reached{where}: {error.Describe()}");
    }

    private static (string Key, string Relative)? Split(string name)
    {
        if (!name.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = name[Prefix.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? (rest, "") : (rest[..slash], rest[(slash + 1)..]);
    }

    private static Timespec Time(DateTimeOffset time)
    {
        var ticks = time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        return new Timespec(Math.DivRem(ticks, TimeSpan.TicksPerSecond, out var rest) - (rest < 0 ? 1 : 0), ((rest + TimeSpan.TicksPerSecond) % TimeSpan.TicksPerSecond) * 100);
    }
}
