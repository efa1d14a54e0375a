namespace Harmont.Aot.Native.Linux;

/// <summary>Mount namespaces, bind mounts and kill, for the host backend's stable workspace path.</summary>
internal static partial class LinuxSyscalls
{
    private const nuint MsBind = 0x1000;
    private const nuint MsRec = 0x4000;
    private const nuint MsSlave = 0x80000;
    private const int CloneNewNs = 0x00020000;

    /// <summary><c>mount --rbind</c>: <paramref name="source"/> and every mount under it, also at <paramref name="target"/>.</summary>
    public static Errno BindRecursive(string source, string target) =>
        MountNative(source, target, "none", MsBind | MsRec, null) == 0 ? Errno.None : ErrnoText.Last();

    /// <summary>
    /// <c>unshare(CLONE_NEWNS)</c>, then every mount made a slave: the calling thread (only it, with
    /// the processes it forks) gets its own copy of the mount table, which sees the host's unmounts and
    /// never shows the host its own mounts.
    /// </summary>
    public static Errno UnshareMountNamespace()
    {
        if (Unshare(CloneNewNs) != 0)
        {
            return ErrnoText.Last();
        }

        return MountNative("none", "/", "none", MsRec | MsSlave, null) == 0 ? Errno.None : ErrnoText.Last();
    }

    /// <summary>SIGKILL.</summary>
    public const int SigKill = 9;

    /// <summary><c>kill(2)</c>.</summary>
    public static Errno Kill(int pid, int signal) => KillNative(pid, signal) == 0 ? Errno.None : ErrnoText.Last();

    [System.Runtime.InteropServices.LibraryImport(Libc, EntryPoint = "kill", SetLastError = true)]
    private static partial int KillNative(int pid, int signal);

    [System.Runtime.InteropServices.LibraryImport(Libc, EntryPoint = "unshare", SetLastError = true)]
    private static partial int Unshare(int flags);
}
