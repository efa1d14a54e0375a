using System.Diagnostics;
using System.Runtime.Versioning;
using Harmont.Aot.Native.Linux;

namespace Harmont.Aot.Workspaces;

/// <summary>The parts both overlay strategies share: the option string and the per-file cloner for materialising.</summary>
internal abstract class OverlayStrategyBase : ILayeredWorkspaceStrategy
{
    // mount(2) takes at most one page of options; deeper lineages than fit are refused with a reason.
    private const int MaxOptionsLength = 4000;

    // Materialising (source base, cache entries) still reflinks where the filesystem can.
    private readonly TreeCloner _cloner = new(reflink: true);

    public abstract string Name { get; }

    public Task CopyEntriesAsync(string source, string destination, IReadOnlyList<string> relativePaths, CancellationToken cancellationToken) =>
        _cloner.CopyEntriesAsync(source, destination, relativePaths, cancellationToken);

    public Task CloneTreeAsync(string source, string destination, CancellationToken cancellationToken) =>
        _cloner.CloneTreeAsync(source, destination, cancellationToken);

    public TreeCloner Cloner => _cloner;

    public abstract Task<OverlayMount> MountAsync(IReadOnlyList<string> lowers, string upper, string work, string merged, CancellationToken cancellationToken);

    /// <summary><c>lowerdir=…,upperdir=…,workdir=…</c> plus <paramref name="extra"/>, checked for what the syntax cannot carry.</summary>
    protected static string Options(IReadOnlyList<string> lowers, string upper, string work, string extra)
    {
        if (lowers.Count == 0)
        {
            throw new ArgumentException("an overlay needs at least one lower layer", nameof(lowers));
        }

        foreach (var path in lowers.Append(upper).Append(work))
        {
            if (path.AsSpan().IndexOfAny(":,\\") >= 0)
            {
                throw new IOException($"overlay layer path '{path}' contains ':', ',' or '\\', which overlay options cannot carry; move the work directory (HARMONT_WORK_DIR).");
            }
        }

        var options = $"lowerdir={string.Join(':', lowers)},upperdir={upper},workdir={work}{extra}";
        if (options.Length > MaxOptionsLength)
        {
            throw new IOException(
                $"a lineage {lowers.Count} steps deep does not fit in one overlay mount's options ({options.Length} bytes); " +
                "use a shorter HARMONT_WORK_DIR or HARMONT_WORKSPACE_STRATEGY=reflink|copy for this pipeline.");
        }

        return options;
    }
}

/// <summary>Kernel overlayfs, mounted with <c>mount(2)</c>: needs CAP_SYS_ADMIN in the mount's namespace.</summary>
[SupportedOSPlatform("linux")]
internal sealed class KernelOverlayStrategy : OverlayStrategyBase
{
    public override string Name => WorkspaceStrategies.Overlay;

    // A layer is kept as plain files (an entry's layer, the links of an entry's tree), so the kernel must copy a
    // whole file up and never mark a renamed directory as a redirect, whatever its build's defaults are. A kernel
    // older than these options (4.19) does neither, and refuses them: it is mounted without.
    private const string WholeFiles = ",redirect_dir=off,metacopy=off";
    private static volatile bool s_knowsWholeFiles = true;

    public override Task<OverlayMount> MountAsync(IReadOnlyList<string> lowers, string upper, string work, string merged, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(upper);
        Directory.CreateDirectory(work);
        Directory.CreateDirectory(merged);
        var error = s_knowsWholeFiles ? LinuxSyscalls.Mount("overlay", merged, "overlay", Options(lowers, upper, work, WholeFiles)) : Errno.EINVAL;
        if (error == Errno.EINVAL)
        {
            error = LinuxSyscalls.Mount("overlay", merged, "overlay", Options(lowers, upper, work, ""));
            s_knowsWholeFiles &= error != Errno.None;
        }

        if (error != Errno.None)
        {
            var hint = error == Errno.EPERM ? "; mounting overlayfs needs CAP_SYS_ADMIN: root, or a user namespace on kernel >= 5.11" : "";
            throw new IOException($"mount(2) overlay at {merged} failed: {error.Describe()}{hint}");
        }

        return Task.FromResult(new OverlayMount(merged));
    }
}

/// <summary>
/// fuse-overlayfs, for where the kernel overlay may not be mounted. <c>allow_other</c> lets the Docker
/// daemon bind it; ownership is squashed to the invoking user, so a container's root can create files
/// (fuse-overlayfs writes as that user rather than failing to chown to root) and the host can delete them.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class FuseOverlayStrategy : OverlayStrategyBase
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly string _program;

    public FuseOverlayStrategy(string program) => _program = program;

    public override string Name => WorkspaceStrategies.FuseOverlay;

    /// <summary>The <c>fuse-overlayfs</c> executable on PATH, or null.</summary>
    public static string? FindProgram(Func<string, string?> getEnv)
    {
        foreach (var dir in (getEnv("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "fuse-overlayfs");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    public override async Task<OverlayMount> MountAsync(IReadOnlyList<string> lowers, string upper, string work, string merged, CancellationToken cancellationToken)
    {
        var squash = $",allow_other,squash_to_uid={LinuxSyscalls.EffectiveUserId()},squash_to_gid={LinuxSyscalls.EffectiveGroupId()}";
        var options = Options(lowers, upper, work, squash);
        Directory.CreateDirectory(upper);
        Directory.CreateDirectory(work);
        Directory.CreateDirectory(merged);

        // fuse-overlayfs daemonises once the mount is up; its first process exiting 0 means mounted.
        using var process = Process.Start(new ProcessStartInfo(_program, ["-o", options, merged])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var timeout = new CancellationTokenSource(StartTimeout);
        try
        {
            // Not cancelled by the run: a half-started mount must finish starting so it can be taken down.
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            MountTable.UnmountUnder(merged);
            throw new IOException($"fuse-overlayfs did not mount {merged} within {StartTimeout.TotalSeconds:0}s");
        }

        var message = (await stderr).Replace("unknown argument ignored: lazytime", "", StringComparison.Ordinal).Trim();
        if (process.ExitCode != 0 || !MountTable.IsMountPoint(merged))
        {
            MountTable.UnmountUnder(merged);
            throw new IOException($"fuse-overlayfs could not mount {merged} (exit {process.ExitCode}): {message}");
        }

        return new OverlayMount(merged);
    }
}
