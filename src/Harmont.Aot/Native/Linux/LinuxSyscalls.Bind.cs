namespace Harmont.Aot.Native.Linux;

/// <summary>Bind mounts, for the host backend's serial fallback.</summary>
internal static partial class LinuxSyscalls
{
    private const nuint MsBind = 0x1000;
    private const nuint MsRec = 0x4000;

    /// <summary><c>mount --rbind</c>: <paramref name="source"/> and every mount under it, also at <paramref name="target"/>.</summary>
    public static Errno BindRecursive(string source, string target) =>
        MountNative(source, target, "none", MsBind | MsRec, null) == 0 ? Errno.None : ErrnoText.Last();
}
