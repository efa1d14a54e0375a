using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.Versioning;
using Harmont.Aot.Model;
using Harmont.Aot.Native.Linux;
using Harmont.Aot.Native.MacOS;

namespace Harmont.Aot.Workspaces;

/// <summary>
/// Picks the workspace strategy for a work directory: reflink, kernel overlay, fuse-overlayfs, then a
/// plain copy (docs/workspaces.md), probed for real on the filesystem that holds the work directory.
/// </summary>
internal static class WorkspaceStrategies
{
    public const string Reflink = "reflink";
    public const string Overlay = "overlay";
    public const string FuseOverlay = "fuse-overlayfs";
    public const string Copy = "copy";

    /// <summary>Forces a strategy by name, instead of the first available one.</summary>
    public const string EnvironmentVariable = "HARMONT_WORKSPACE_STRATEGY";

    private const int ProbeFiles = 200;

    // Once per filesystem per process (docs/workspaces.md): probing mounts and clones, which is not free.
    private static readonly ConcurrentDictionary<(ulong Device, string Name), StrategyProbe> Probes = new();

    /// <summary>Every strategy, in order of preference.</summary>
    public static IReadOnlyList<string> Names { get; } = [Reflink, Overlay, FuseOverlay, Copy];

    /// <summary>
    /// The strategy <c>run</c> uses for <paramref name="workDir"/>: the one named by
    /// <c>HARMONT_WORKSPACE_STRATEGY</c> (an error if unknown or unavailable), else the first available.
    /// Falling back to a copy is said on <paramref name="notices"/>, with each faster strategy's reason.
    /// </summary>
    public static IWorkspaceStrategy ForWorkDir(string workDir, Func<string, string?> getEnv, TextWriter notices)
    {
        ArgumentNullException.ThrowIfNull(getEnv);
        ArgumentNullException.ThrowIfNull(notices);
        var forced = getEnv(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(forced))
        {
            forced = forced.Trim();
            if (!Names.Contains(forced))
            {
                throw new PipelineException($"{EnvironmentVariable}={forced} is not a workspace strategy; use {string.Join(", ", Names)}.");
            }

            var probe = Probe(forced, workDir, getEnv);
            if (!probe.Available)
            {
                throw new PipelineException($"{EnvironmentVariable}={forced}, but {forced} cannot be used for {workDir}: {probe.Reason}.");
            }

            if (forced == Copy)
            {
                notices.WriteLine($"harmont: warning: workspaces are full copies ({EnvironmentVariable}=copy); every step copies the whole tree.");
            }

            return Create(forced, getEnv);
        }

        var reasons = new List<string>();
        foreach (var name in Names)
        {
            var probe = Probe(name, workDir, getEnv);
            if (probe.Available)
            {
                if (name == Copy)
                {
                    notices.WriteLine(
                        $"harmont: warning: workspaces fall back to full copies, slow on big trees ({string.Join("; ", reasons)}). " +
                        "Put the work dir (HARMONT_WORK_DIR) on XFS or Btrfs for reflinks, or allow overlay mounts.");
                }

                return Create(name, getEnv);
            }

            reasons.Add($"{name}: {probe.Reason}");
        }

        throw new InvalidOperationException("the copy strategy is always available");
    }

    /// <summary>A strategy by name, without probing it.</summary>
    public static IWorkspaceStrategy Create(string name, Func<string, string?> getEnv) => name switch
    {
        Reflink => new ReflinkStrategy(),
        Overlay when OperatingSystem.IsLinux() => new KernelOverlayStrategy(),
        FuseOverlay when OperatingSystem.IsLinux() && FuseOverlayStrategy.FindProgram(getEnv) is { } program => new FuseOverlayStrategy(program),
        Copy => new CopyStrategy(),
        _ => throw new PipelineException($"workspace strategy '{name}' is not available on this system."),
    };

    /// <summary>Probes one strategy on <paramref name="workDir"/>'s filesystem, once per process.</summary>
    public static StrategyProbe Probe(string name, string workDir, Func<string, string?> getEnv)
    {
        Directory.CreateDirectory(workDir);
        return Probes.GetOrAdd((DeviceOf(workDir), name), _ => ProbeUncached(name, workDir, getEnv, measure: false));
    }

    /// <summary>
    /// Probes every strategy afresh and times preparing one workspace from a small probe tree
    /// (<c>doctor</c>): a clone for the directory strategies, a mount and unmount for the overlays.
    /// </summary>
    public static IReadOnlyList<StrategyProbe> ProbeAllMeasured(string workDir, Func<string, string?> getEnv)
    {
        Directory.CreateDirectory(workDir);
        return [.. Names.Select(name => ProbeUncached(name, workDir, getEnv, measure: true))];
    }

    /// <summary>A readable name for the filesystem holding <paramref name="path"/> (<c>xfs</c>, <c>ext4</c>, …).</summary>
    public static string FileSystemName(string path)
    {
        if (!OperatingSystem.IsLinux() || LinuxSyscalls.FileSystemOf(path, out var magic) != Errno.None)
        {
            return OperatingSystem.IsMacOS() ? "apfs/hfs" : "unknown";
        }

        return magic switch
        {
            0x58465342 => "xfs",
            0xEF53 => "ext4",
            0x9123683E => "btrfs",
            0x01021994 => "tmpfs",
            0x794C7630 => "overlayfs",
            0x2FC12FC1 => "zfs",
            0x65735546 => "fuse",
            0x6969 => "nfs",
            unchecked((int)0xF2F52010) => "f2fs",
            unchecked((int)0xCA451A4E) => "bcachefs",
            _ => $"fs 0x{magic:x}",
        };
    }

    private static ulong DeviceOf(string path) =>
        OperatingSystem.IsLinux() && LinuxSyscalls.Stat(path, out var status) == Errno.None ? status.Device : 0;

    private static StrategyProbe ProbeUncached(string name, string workDir, Func<string, string?> getEnv, bool measure)
    {
        var probeRoot = Path.Combine(workDir, $".probe-{name}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(probeRoot);
        try
        {
            var (available, reason) = name switch
            {
                Reflink => ProbeReflink(probeRoot),
                Overlay => OperatingSystem.IsLinux() ? ProbeMount(new KernelOverlayStrategy(), probeRoot) : (false, "overlayfs is Linux-only"),
                FuseOverlay => ProbeFuse(probeRoot, getEnv),
                _ => (true, "always available; copies every byte of every file (the slow fallback)"),
            };
            TimeSpan? time = available && measure ? Measure(Create(name, getEnv), probeRoot) : null;
            return new StrategyProbe(name, available, reason, time);
        }
#pragma warning disable CA1031 // A probe that throws means "not available, and here is why", never a crash.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return new StrategyProbe(name, false, ex.Message);
        }
        finally
        {
            MountTable.UnmountUnder(probeRoot);
            Directory.Delete(probeRoot, recursive: true);
        }
    }

    private static (bool, string) ProbeReflink(string probeRoot)
    {
        var fs = FileSystemName(probeRoot);
        var source = Path.Combine(probeRoot, "reflink-source");
        File.WriteAllBytes(source, new byte[64 * 1024]);
        var destination = Path.Combine(probeRoot, "reflink-clone");
        if (OperatingSystem.IsLinux())
        {
            using var input = File.OpenHandle(source, FileMode.Open, FileAccess.Read);
            using var output = File.OpenHandle(destination, FileMode.CreateNew, FileAccess.Write);
            var error = LinuxSyscalls.CloneFile(output, input);
            return error == Errno.None
                ? (true, $"FICLONE shares extents on {fs}")
                : (false, $"FICLONE on {fs} fails with {error.Describe()}");
        }

        if (OperatingSystem.IsMacOS())
        {
            var error = MacSyscalls.CloneFile(source, destination);
            return error == 0 ? (true, "clonefile(2) works on this volume") : (false, $"clonefile(2) fails with errno {error}");
        }

        return (false, "no reflink system call on this OS");
    }

    private static (bool, string) ProbeFuse(string probeRoot, Func<string, string?> getEnv)
    {
        if (!OperatingSystem.IsLinux())
        {
            return (false, "fuse-overlayfs is Linux-only");
        }

        if (FuseOverlayStrategy.FindProgram(getEnv) is not { } program)
        {
            return (false, "fuse-overlayfs is not on PATH (apt-get install fuse-overlayfs)");
        }

        if (!File.Exists("/dev/fuse"))
        {
            return (false, "/dev/fuse is missing (load the fuse module, or pass --device /dev/fuse to this container)");
        }

        if (LinuxSyscalls.EffectiveUserId() != 0 && !AllowsUserAllowOther())
        {
            return (false, "allow_other (needed so Docker can bind the mount) requires 'user_allow_other' in /etc/fuse.conf for non-root users");
        }

        return ProbeMount(new FuseOverlayStrategy(program), probeRoot);
    }

    private static bool AllowsUserAllowOther() =>
        File.Exists("/etc/fuse.conf") && File.ReadLines("/etc/fuse.conf").Any(l => l.Trim() == "user_allow_other");

    [SupportedOSPlatform("linux")]
    private static (bool, string) ProbeMount(ILayeredWorkspaceStrategy strategy, string probeRoot)
    {
        var lower = Directory.CreateDirectory(Path.Combine(probeRoot, "lower")).FullName;
        File.WriteAllText(Path.Combine(lower, "probe.txt"), "lower");
        var upper = Path.Combine(probeRoot, "upper");
        using (var mount = strategy.MountAsync([lower], upper, Path.Combine(probeRoot, "work"), Path.Combine(probeRoot, "merged"), CancellationToken.None).GetAwaiter().GetResult())
        {
            File.WriteAllText(Path.Combine(mount.MergedPath, "probe.txt"), "upper");
        }

        var ok = File.ReadAllText(Path.Combine(lower, "probe.txt")) == "lower" && File.ReadAllText(Path.Combine(upper, "probe.txt")) == "upper";
        return ok
            ? (true, $"mounts and copies up on {FileSystemName(probeRoot)}")
            : (false, "mounted, but a write did not land in the upper layer");
    }

    private static TimeSpan Measure(IWorkspaceStrategy strategy, string probeRoot)
    {
        var tree = Path.Combine(probeRoot, "tree");
        var random = new Random(7);
        for (var i = 0; i < ProbeFiles; i++)
        {
            var path = Path.Combine(tree, $"d{i % 10}", $"f{i}.bin");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, new byte[random.Next(512, 64 * 1024)]);
        }

        var best = TimeSpan.MaxValue;
        for (var round = 0; round < 3; round++)
        {
            var target = Path.Combine(probeRoot, $"clone-{round}");
            var clock = Stopwatch.StartNew();
            if (strategy is ILayeredWorkspaceStrategy layered)
            {
                using var mount = layered.MountAsync([tree], Path.Combine(target, "u"), Path.Combine(target, "w"), Path.Combine(target, "m"), CancellationToken.None)
                    .GetAwaiter().GetResult();
                mount.Unmount();
            }
            else
            {
                strategy.CloneTreeAsync(tree, target, CancellationToken.None).GetAwaiter().GetResult();
            }

            best = clock.Elapsed < best ? clock.Elapsed : best;
        }

        return best;
    }
}
