using System.Diagnostics;
using System.Runtime.Versioning;

namespace Harmont.Aot.Native.Linux;

/// <summary>
/// Starts a process in a mount namespace of its own with one directory bound at another path, by
/// leaving this process's mount namespace on a thread made for that alone and forking from it.
/// </summary>
/// <remarks>
/// A namespace unshared in a multi-threaded process belongs to the calling thread only, so it must
/// never be a thread that runs anything else: the thread here unshares, binds, starts the child
/// (.NET forks on the calling thread, and the child inherits the thread's namespace) and exits, and
/// the namespace lives on only in the child. Nothing runs in the child before exec, so no managed code
/// meets a half-made process. Measured against bwrap and util-linux unshare(1) (bench/README.md), this
/// adds about 0.5 ms to a step's start where they add 4-6 ms, and unlike bwrap it has no window in
/// which a mount that vanishes on the host (another step's workspace unmounted) fails the start
/// (containers/bubblewrap#650). Root only: a user namespace cannot be entered by a multi-threaded process.
/// </remarks>
[SupportedOSPlatform("linux")]
internal static class NamespacedStart
{
    /// <summary>
    /// Runs <paramref name="start"/> with <paramref name="source"/> bound at <paramref name="target"/>
    /// (an existing directory) in a fresh mount namespace; its errno when the namespace or the bind
    /// failed. A null <paramref name="start"/> only probes whether that works here.
    /// </summary>
    /// <returns>The errno, the process, and its namespace held open (the caller disposes it).</returns>
    /// <param name="source">The directory to bind.</param>
    /// <param name="target">Where.</param>
    /// <param name="start">Starts the process; null only probes.</param>
    /// <param name="more">More binds (cache mounts), made after the first, each target an existing directory.</param>
    public static Task<(Errno Error, Process? Process, StepNamespace? Namespace)> StartAsync(
        string source, string target, Func<Process>? start, IReadOnlyList<KeyValuePair<string, string>>? more = null)
    {
        var result = new TaskCompletionSource<(Errno, Process?, StepNamespace?)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                var error = LinuxSyscalls.UnshareMountNamespace();
                if (error == Errno.None)
                {
                    error = LinuxSyscalls.BindRecursive(source, target);
                }

                foreach (var (from, to) in more ?? [])
                {
                    if (error == Errno.None)
                    {
                        error = LinuxSyscalls.BindRecursive(from, to);
                    }
                }

                if (error != Errno.None || start is null)
                {
                    result.SetResult((error, null, null));
                    return;
                }

                var held = StepNamespace.Open("/proc/thread-self/ns/mnt");
                try
                {
                    result.SetResult((Errno.None, start(), held));
                }
                catch
                {
                    held?.Dispose();
                    throw;
                }
            }
#pragma warning disable CA1031 // Handed to the awaiting caller, which rethrows it.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                result.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "harmont-mount-namespace",
        };
        thread.Start();
        return result.Task;
    }
}
