using System.ComponentModel;
using System.Diagnostics;
using Harmont.Aot.Model;
using Harmont.Aot.Native.Linux;

namespace Harmont.Aot.Runners.Host;

/// <summary>How host steps get their workspace at the pipeline's stable path.</summary>
internal enum HostIsolationMode
{
    /// <summary>As root: each step in a private mount namespace made in this process, its workspace bound there; steps run in parallel.</summary>
    Unshare,

    /// <summary>Not root: each step in a private mount and user namespace made by bubblewrap; steps run in parallel.</summary>
    Bwrap,

    /// <summary>No namespace: the workspace is moved to the path for the step, so a pipeline's host steps run one at a time.</summary>
    Serial,
}

/// <summary>The isolation host steps get on this machine, and why; probed for real, once per run.</summary>
/// <param name="Mode">In-process namespace, bubblewrap, or serial.</param>
/// <param name="Reason">One line saying why, for <c>doctor</c> and the run's notice.</param>
internal sealed record HostIsolation(HostIsolationMode Mode, string Reason)
{
    /// <summary>Whether each step gets a mount namespace of its own, so steps run in parallel.</summary>
    public bool IsNamespace => Mode != HostIsolationMode.Serial;

    /// <summary>Forces <c>namespace</c> or <c>serial</c> instead of probing.</summary>
    public const string EnvironmentVariable = "HARMONT_HOST_ISOLATION";

    /// <summary>
    /// Whether a step can get a private mount namespace here (as root, made in this process; otherwise
    /// by bubblewrap), tried for real by binding <paramref name="probeDirectory"/> (an existing
    /// directory) onto itself in one. A mode the user forces that cannot work is a <see cref="PipelineException"/>.
    /// </summary>
    public static async Task<HostIsolation> ProbeAsync(string probeDirectory, Func<string, string?> getEnv, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(getEnv);
        var forced = getEnv(EnvironmentVariable)?.Trim();
        switch (forced)
        {
            case null or "":
                return await ProbeNamespaceAsync(probeDirectory, cancellationToken);
            case "serial":
                return new HostIsolation(HostIsolationMode.Serial, $"set by {EnvironmentVariable}");
            case "namespace":
                var probed = await ProbeNamespaceAsync(probeDirectory, cancellationToken);
                return probed.IsNamespace
                    ? probed with { Reason = $"{probed.Reason} (set by {EnvironmentVariable})" }
                    : throw new PipelineException($"{EnvironmentVariable}=namespace, but {probed.Reason}. Unset it to run host steps one at a time instead.");
            default:
                throw new PipelineException($"{EnvironmentVariable}='{forced}' is not a host isolation; use namespace or serial, or unset it.");
        }
    }

    private static async Task<HostIsolation> ProbeNamespaceAsync(string probeDirectory, CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux())
        {
            return new HostIsolation(HostIsolationMode.Serial, "mount namespaces are Linux-only");
        }

        if (LinuxSyscalls.EffectiveUserId() == 0)
        {
            var (error, _, _) = await NamespacedStart.StartAsync(probeDirectory, probeDirectory, start: null);
            return error == Errno.None
                ? new HostIsolation(HostIsolationMode.Unshare, "a private mount namespace per step")
                : new HostIsolation(
                    HostIsolationMode.Serial,
                    $"unshare(CLONE_NEWNS) or a bind mount fails with {error.Describe()}; likely a container without CAP_SYS_ADMIN or with a seccomp profile that blocks unshare");
        }

        var probe = new ProcessStartInfo("bwrap")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in BwrapArguments(probeDirectory, probeDirectory, probeDirectory, ["true"]))
        {
            probe.ArgumentList.Add(arg);
        }

        Process? process;
        try
        {
            process = Process.Start(probe);
        }
        catch (Win32Exception)
        {
            process = null;
        }

        if (process is null)
        {
            return new HostIsolation(
                HostIsolationMode.Serial,
                "not root, and bubblewrap (bwrap) is not installed; install it (Debian and Ubuntu: apt-get install bubblewrap) to run host steps in parallel");
        }

        using (process)
        {
            var error = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.StandardOutput.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            if (process.ExitCode != 0)
            {
                var why = (await error).Trim().ReplaceLineEndings(" ");
                return new HostIsolation(
                    HostIsolationMode.Serial,
                    $"bwrap cannot make a namespace here ({why}); likely unprivileged user namespaces are off " +
                    "(sysctl kernel.unprivileged_userns_clone or user.max_user_namespaces, or an AppArmor restriction)");
            }
        }

        return new HostIsolation(
            HostIsolationMode.Bwrap,
            "bwrap: a private mount namespace per step, inside a user namespace (setuid programs such as sudo cannot raise privileges there)");
    }

    /// <summary>
    /// bwrap's arguments to run <paramref name="command"/> with <paramref name="workspace"/> bound at
    /// <paramref name="stablePath"/>, starting in <paramref name="workingDirectory"/>.
    /// </summary>
    /// <remarks>
    /// A non-root user gets a mount namespace only inside a user namespace, which a multi-threaded
    /// process cannot enter, so the child-side helper does it. The whole tree is bound as it is
    /// (<c>--dev-bind / /</c>, recursive: devices, /proc, other mounts), and bwrap makes it a slave of
    /// the host's so nothing mounted inside leaks out. No <c>--die-with-parent</c>: its parent-death
    /// signal follows the forking thread, which the thread pool may retire while the step runs. No
    /// <c>--unshare-pid</c>, so killing the process tree from here still reaches every process.
    /// </remarks>
    public static IReadOnlyList<string> BwrapArguments(
        string workspace, string stablePath, string workingDirectory, IReadOnlyList<string> command, IReadOnlyList<KeyValuePair<string, string>>? mounts = null) =>
        ["--dev-bind", "/", "/", "--bind", workspace, stablePath, .. (mounts ?? []).SelectMany(m => new[] { "--bind", m.Key, m.Value }), "--chdir", workingDirectory, "--", .. command];
}
