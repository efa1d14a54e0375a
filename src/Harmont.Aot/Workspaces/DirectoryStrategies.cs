using Harmont.Aot.Tuning;

namespace Harmont.Aot.Workspaces;

/// <summary>The directory strategies share one cloner; they differ in whether it tries to reflink.</summary>
internal abstract class ClonedDirectoryStrategy : IWorkspaceStrategy
{
    private readonly TreeCloner _cloner;

    protected ClonedDirectoryStrategy(bool reflink, Tunables? tunables) => _cloner = new TreeCloner(reflink, tunables);

    public abstract string Name { get; }

    /// <summary>How files were cloned so far, and why the first reflink fell back.</summary>
    public CloneCounters Counters => _cloner.Counters;

    public Task CopyEntriesAsync(string source, string destination, IReadOnlyList<string> relativePaths, CancellationToken cancellationToken) =>
        _cloner.CopyEntriesAsync(source, destination, relativePaths, cancellationToken);

    public Task CloneTreeAsync(string source, string destination, CancellationToken cancellationToken) =>
        _cloner.CloneTreeAsync(source, destination, cancellationToken);

    public TreeCloner Cloner => _cloner;
}

/// <summary>Reflink: <c>ioctl(FICLONE)</c> per file on Linux, <c>clonefile(2)</c> on macOS; falls back per file to a copy.</summary>
/// <param name="tunables">How many files are cloned at once (default: <see cref="Tunables.Default"/>).</param>
internal sealed class ReflinkStrategy(Tunables? tunables = null) : ClonedDirectoryStrategy(reflink: true, tunables)
{
    public override string Name => WorkspaceStrategies.Reflink;
}

/// <summary>The always-available fallback: every file's bytes copied (in the kernel where it can). Correct, and slow on big trees.</summary>
/// <param name="tunables">How many files are copied at once (default: <see cref="Tunables.Default"/>).</param>
internal sealed class CopyStrategy(Tunables? tunables = null) : ClonedDirectoryStrategy(reflink: false, tunables)
{
    public override string Name => WorkspaceStrategies.Copy;
}
