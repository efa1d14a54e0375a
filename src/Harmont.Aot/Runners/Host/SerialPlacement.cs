using Harmont.Aot.Native.Linux;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Runners.Host;

/// <summary>
/// The fallback where no mount namespace can be had (macOS, no bwrap, no user namespaces): the step's
/// workspace is renamed to the stable path for the step and renamed back after it, under a lock held
/// in this process and, through a file beside the path, against other runs of the same pipeline. So a
/// pipeline's host steps run one at a time. A rename is all it costs: the stable path and the run's
/// workspaces are both under the work dir. An overlay workspace is a mount point, which cannot be
/// renamed: it is bound at the path where this process may mount, and otherwise runs where it is.
/// </summary>
internal sealed class SerialPlacement : IAsyncDisposable
{
    private readonly StableWorkspace _stable;
    private readonly FileStream? _fileLock;
    private readonly string _workspace;

    private readonly Placed _placed;

    private SerialPlacement(StableWorkspace stable, FileStream? fileLock, string workspace, Placed placed, string? notice)
    {
        _stable = stable;
        _fileLock = fileLock;
        _workspace = workspace;
        _placed = placed;
        Notice = notice;
    }

    private enum Placed
    {
        Moved,
        Bound,
        InPlace,
    }

    /// <summary>Why the step did not get the stable path, to say in its log; null when it did.</summary>
    public string? Notice { get; }

    /// <summary>Waits for the path, then moves <paramref name="workspace"/> there.</summary>
    public static async Task<SerialPlacement> EnterAsync(StableWorkspace stable, string workspace, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stable);
        await stable.SerialGate.WaitAsync(cancellationToken);
        FileStream? fileLock = null;
        try
        {
            fileLock = await stable.LockAsync(exclusive: true, cancellationToken);

            // Holding the lock, anything at the path is a crashed run's leftover (or the empty
            // directory a namespace run binds over).
            Clear(stable.Path);
            if (!MountTable.IsMountPoint(workspace))
            {
                Directory.Move(workspace, stable.Path);
                return new SerialPlacement(stable, fileLock, workspace, Placed.Moved, null);
            }

            // A mount point cannot be renamed; where this process may mount, it is bound there instead.
            Directory.CreateDirectory(stable.Path);
            var bound = OperatingSystem.IsLinux() ? LinuxSyscalls.BindRecursive(workspace, stable.Path) : Errno.EPERM;
            if (bound == Errno.None)
            {
                return new SerialPlacement(stable, fileLock, workspace, Placed.Bound, null);
            }

            fileLock.Dispose();
            stable.SerialGate.Release();
            return new SerialPlacement(
                stable, null, workspace, Placed.InPlace,
                $"harmont: this workspace is a mount that can be neither moved nor bound here ({bound.Describe()}), so this step runs at {workspace}, not at {stable.Path}.");
        }
        catch
        {
            fileLock?.Dispose();
            stable.SerialGate.Release();
            throw;
        }
    }

    /// <summary>Moves the workspace back where the run keeps it, and lets the next step in.</summary>
    public ValueTask DisposeAsync()
    {
        if (_placed == Placed.InPlace)
        {
            return ValueTask.CompletedTask;
        }

        try
        {
            if (_placed == Placed.Bound)
            {
                MountTable.UnmountUnder(_stable.Path);
            }
            else if (new DirectoryInfo(_stable.Path) is { Exists: true, LinkTarget: null })
            {
                Directory.Move(_stable.Path, _workspace);
            }
            else
            {
                // The step ran as the user and could have put anything there; only a directory goes back.
                throw new IOException($"the step replaced its workspace at {_stable.Path} with something that is not a directory.");
            }
        }
        finally
        {
            _fileLock!.Dispose();
            _stable.SerialGate.Release();
        }

        return ValueTask.CompletedTask;
    }

    private static void Clear(string path)
    {
        var entry = new FileInfo(path);
        if (entry.LinkTarget is not null || (entry.Exists && !entry.Attributes.HasFlag(FileAttributes.Directory)))
        {
            entry.Delete(); // a link or a file: never followed
        }
        else if (Directory.Exists(path))
        {
            RunWorkspaces.Delete(path);
        }
    }
}
