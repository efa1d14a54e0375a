namespace Harmont.Aot.Workspaces;

/// <summary>How a step's workspace is made from its input: a clone of a directory, or a mount over layers.</summary>
internal interface IWorkspaceStrategy
{
    /// <summary>Name shown by <c>doctor</c> and in the run header; what <c>HARMONT_WORKSPACE_STRATEGY</c> takes.</summary>
    string Name { get; }

    /// <summary>Copies the listed entries (relative paths) from <paramref name="source"/> into a new <paramref name="destination"/>.</summary>
    Task CopyEntriesAsync(string source, string destination, IReadOnlyList<string> relativePaths, CancellationToken cancellationToken);

    /// <summary>Copies a whole tree into a new directory; writes to either side stay on that side.</summary>
    Task CloneTreeAsync(string source, string destination, CancellationToken cancellationToken);

    /// <summary>Clones single files (laying source over a cached output), reflinking where the strategy does.</summary>
    TreeCloner Cloner { get; }
}

/// <summary>
/// A strategy whose workspaces are overlay mounts: a child's lower layers are its lineage's layers, so
/// preparing a workspace costs one mount whatever the size of the tree.
/// </summary>
internal interface ILayeredWorkspaceStrategy : IWorkspaceStrategy
{
    /// <summary>
    /// Mounts <paramref name="lowers"/> (topmost first, read-only) under the empty <paramref name="upper"/>
    /// at <paramref name="merged"/>; <paramref name="work"/> is the overlay's scratch directory.
    /// </summary>
    Task<OverlayMount> MountAsync(IReadOnlyList<string> lowers, string upper, string work, string merged, CancellationToken cancellationToken);
}
