using Microsoft.Win32.SafeHandles;

namespace Harmont.Aot.Native.Linux;

/// <summary>
/// A host step's mount namespace, held open, so what the step leaves running there can be ended with
/// it, as a container's end does. A process left there sees the workspace at the stable path as that
/// step had it, not as any later step has it: a build server (the Roslyn compiler server, an MSBuild
/// node, a Gradle daemon) that outlived its step and served the next one would read and write the wrong
/// tree, silently. Holding the namespace open is what makes its name safe to match: the kernel hands a
/// freed namespace's inode number to the next namespace made, which may be another step's.
/// </summary>
internal sealed class StepNamespace : IDisposable
{
    // How long the killed are waited for: a SIGKILLed process on a loaded machine can take a while to be scheduled and
    // go, and the step is not over until it has; one stuck in the kernel (a dead network mount) must not hang the run.
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(10);
    private readonly SafeFileHandle _handle;

    private StepNamespace(SafeFileHandle handle, string name)
    {
        _handle = handle;
        Name = name;
    }

    /// <summary>As <c>/proc</c> names it: <c>mnt:[4026532…]</c>.</summary>
    public string Name { get; }

    /// <summary>Holds the mount namespace that <paramref name="nsPath"/> (a <c>/proc/…/ns/mnt</c> link) names; null when it is gone.</summary>
    public static StepNamespace? Open(string nsPath)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(nsPath, FileMode.Open, FileAccess.Read);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        var name = new FileInfo($"/proc/self/fd/{handle.DangerousGetHandle()}").LinkTarget;
        if (name is null || name == new FileInfo("/proc/self/ns/mnt").LinkTarget)
        {
            handle.Dispose(); // never this process's own namespace
            return null;
        }

        return new StepNamespace(handle, name);
    }

    /// <summary>SIGKILLs every process in the namespace until none is left (one may fork while its siblings are killed).</summary>
    public void KillAll()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // only ever made on Linux
        }

        for (var waited = System.Diagnostics.Stopwatch.StartNew(); waited.Elapsed < MaxWait;)
        {
            var found = false;
            foreach (var entry in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(entry), out var pid) || NamespaceOf(entry) != Name)
                {
                    continue;
                }

                found = true;
                _ = LinuxSyscalls.Kill(pid, LinuxSyscalls.SigKill);
            }

            if (!found)
            {
                return;
            }

            Thread.Sleep(10); // let the killed go, so the next pass does not find them again
        }
    }

    public void Dispose() => _handle.Dispose();

    // Another user's process, or one that exited meanwhile, is not ours to read, and not in the step's namespace.
    private static string? NamespaceOf(string procEntry)
    {
        try
        {
            return new FileInfo(Path.Combine(procEntry, "ns", "mnt")).LinkTarget;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
