using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Harmont.Aot.Native.MacOS;

/// <summary>
/// The macOS system calls the workspace layer makes. Compiled everywhere and selected only on macOS;
/// no macOS machine runs this repository's tests, so this path is exercised only where it ships.
/// </summary>
[SupportedOSPlatform("macos")]
internal static partial class MacSyscalls
{
    /// <summary>Darwin's ENOTSUP: the volume (HFS+, a network share) cannot clone.</summary>
    public const int ENOTSUP = 45;

    /// <summary>Darwin's EXDEV: source and destination are on different volumes.</summary>
    public const int EXDEV = 18;

    // Copy the link itself, not its target; clonefile also keeps mode, owner and times.
    private const uint CloneNoFollow = 0x1;

    /// <summary><c>clonefile(2)</c>: creates <paramref name="destination"/> sharing <paramref name="source"/>'s blocks; 0 or errno.</summary>
    public static int CloneFile(string source, string destination) =>
        CloneFileNative(source, destination, CloneNoFollow) == 0 ? 0 : Marshal.GetLastPInvokeError();

    [LibraryImport("libc", EntryPoint = "clonefile", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int CloneFileNative(string source, string destination, uint flags);
}
