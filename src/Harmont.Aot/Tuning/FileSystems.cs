using Harmont.Aot.Native.Linux;

namespace Harmont.Aot.Tuning;

/// <summary>Whether two directories share a filesystem: only then can a clone from one into the other share extents.</summary>
internal static class FileSystems
{
    /// <summary>True or false on Linux when both can be stat'ed; null otherwise.</summary>
    public static bool? Same(string a, string b) =>
        OperatingSystem.IsLinux() && LinuxSyscalls.Stat(a, out var first) == Errno.None && LinuxSyscalls.Stat(b, out var second) == Errno.None
            ? first.Device == second.Device
            : null;
}
