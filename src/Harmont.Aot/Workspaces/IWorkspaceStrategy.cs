namespace Harmont.Aot.Workspaces;

/// <summary>Makes an independent copy of a directory tree; how cheaply is the strategy's business.</summary>
internal interface IWorkspaceStrategy
{
    /// <summary>Name shown by <c>doctor</c> and in the run header.</summary>
    string Name { get; }

    /// <summary>Copies the listed entries (relative paths) from <paramref name="source"/> into a new <paramref name="destination"/>.</summary>
    Task CopyEntriesAsync(string source, string destination, IReadOnlyList<string> relativePaths, CancellationToken cancellationToken);

    /// <summary>Copies a whole tree into a new directory; writes to either side stay on that side.</summary>
    Task CloneTreeAsync(string source, string destination, CancellationToken cancellationToken);
}
