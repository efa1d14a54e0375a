using System.Runtime.InteropServices;

namespace Harmont.Aot.Native.Linux;

/// <summary>Linux errno values the workspace layer tells apart; any other value still round-trips as a number.</summary>
internal enum Errno
{
    None = 0,
    EPERM = 1,
    ENOENT = 2,
    EINTR = 4,
    EIO = 5,
    EBADF = 9,
    EAGAIN = 11,
    ENOMEM = 12,
    EACCES = 13,
    EBUSY = 16,
    EEXIST = 17,
    EXDEV = 18,
    ENODEV = 19,
    ENOTDIR = 20,
    EISDIR = 21,
    EINVAL = 22,
    ENOTTY = 25,
    EFBIG = 27,
    ENOSPC = 28,
    EROFS = 30,
    ENOSYS = 38,
    ELOOP = 40,
    ENODATA = 61,
    EOPNOTSUPP = 95,
}

/// <summary>Turns errno values into text a user can act on.</summary>
internal static class ErrnoText
{
    /// <summary>The symbolic name and the C library's message, e.g. <c>EOPNOTSUPP (Operation not supported)</c>.</summary>
    public static string Describe(this Errno errno) =>
        $"{(Enum.IsDefined(errno) ? errno.ToString() : $"errno {(int)errno}")} ({Marshal.GetPInvokeErrorMessage((int)errno)})";

    /// <summary>The errno of the P/Invoke that just failed.</summary>
    public static Errno Last() => (Errno)Marshal.GetLastPInvokeError();
}
