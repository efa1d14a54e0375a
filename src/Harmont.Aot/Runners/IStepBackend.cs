namespace Harmont.Aot.Runners;

/// <summary>Runs one step's command in a prepared workspace; Docker or the host.</summary>
internal interface IStepBackend : IAsyncDisposable
{
    /// <summary>Short name shown to the user (<c>docker</c>, <c>host</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Runs the command to completion. Cancellation is cooperative: the backend stops the
    /// process or container, cleans up what it created, and then throws.
    /// </summary>
    Task<StepResult> RunAsync(StepInvocation invocation, CancellationToken cancellationToken);

    /// <summary>Whether the backend commits a step's system state for its children (Docker does, the host cannot).</summary>
    bool KeepsSystemState { get; }

    /// <summary>Whether a snapshot a cache entry names is still there (for Docker: the image is on the engine).</summary>
    Task<bool> HasSnapshotAsync(string snapshot, CancellationToken cancellationToken);

    /// <summary>
    /// Keeps a cached step's snapshot past the run, named from <paramref name="cacheKey"/> (Docker: tags the
    /// image). Called once the step's cache entry is published; until then, a snapshot committed for a
    /// cache key is reaped with the run's ephemeral ones, so the loser of two runs racing on one key
    /// leaves nothing behind.
    /// </summary>
    Task KeepSnapshotAsync(string snapshot, string cacheKey, CancellationToken cancellationToken);

    /// <summary>
    /// Removes the snapshot of a cache entry that has left the store (Docker: its image, unless the cache tag
    /// has moved to another entry's). One that something still uses stays, and goes once it is free.
    /// </summary>
    Task DropSnapshotAsync(string snapshot, string cacheKey, CancellationToken cancellationToken);

    /// <summary>Removes snapshots that were only needed during this run.</summary>
    Task ReapAsync(CancellationToken cancellationToken);
}

/// <summary>Everything a backend needs to run one step.</summary>
/// <param name="RunId">Identifies the run in labels, so cleanup finds its own.</param>
/// <param name="StepKey">The step's key.</param>
/// <param name="Command">Shell command, run as <c>sh -c</c>.</param>
/// <param name="Workspace">Host directory that is the step's workspace.</param>
/// <param name="BaseImage">Parent's snapshot, or the root image; null on the host.</param>
/// <param name="Env">Environment for the command.</param>
/// <param name="KeepSnapshot">Whether a child will start from this step's system state.</param>
/// <param name="Log">Receives each complete output line.</param>
internal sealed record StepInvocation(
    string RunId,
    string StepKey,
    string Command,
    string Workspace,
    string? BaseImage,
    IReadOnlyList<KeyValuePair<string, string>> Env,
    bool KeepSnapshot,
    Action<LogStream, string> Log)
{
    /// <summary>Working directory relative to the workspace root; null is the root itself.</summary>
    public string? Cwd { get; init; }

    /// <summary>
    /// Secret values by name. A backend passes them to the command but must never let them reach
    /// anything that outlives the step (a committed image, a log, a file in the workspace).
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> Secrets { get; init; } = [];

    /// <summary>The run's secrets as <see cref="Log"/> masks them: a backend cuts a long line into pieces only where no secret is.</summary>
    public SecretMasker Masker { get; init; } = SecretMasker.None;

    /// <summary>
    /// The step's cache key when its result will be cached: the backend then snapshots the step's
    /// system state whether or not a child needs it, for <see cref="IStepBackend.KeepSnapshotAsync"/>
    /// to keep once the entry is published. Null: the snapshot, if any, is ephemeral.
    /// </summary>
    public string? CacheKey { get; init; }

    /// <summary>
    /// Cache mounts: a host directory (kept under the cache dir) and the path the step sees it at, absolute or
    /// <c>~/…</c> (the container's <c>/root</c>, the host user's home). Their content is never part of the step's result.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> Mounts { get; init; } = [];

    /// <summary>Where a mount's path is for a home directory of <paramref name="home"/>.</summary>
    public static string MountTarget(string path, string home) =>
        path.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(home, path[2..]) : path;

    /// <summary>Where the backend adds the time it took to start the command and to commit its state, for the run record.</summary>
    public Tuning.StepTimings? Timings { get; init; }

    /// <summary>The network of the step's container; the host backend has only the host's.</summary>
    public Network Network { get; init; }

    /// <summary>Whether steps on the default network may run after this one, so a namespace kept for them would be used.</summary>
    public bool NetworkSharedLater { get; init; }

    /// <summary>Where the step's time goes, when the run measures it (<see cref="StepPhaseLog"/>); null otherwise.</summary>
    public StepPhases? Phases { get; init; }
}

/// <summary>How a step's command ended.</summary>
/// <param name="ExitCode">The command's exit code.</param>
/// <param name="Snapshot">Image committed from the step's container, when one was kept (for a cached step, the image id).</param>
internal sealed record StepResult(int ExitCode, string? Snapshot)
{
    /// <summary>Bytes the snapshot adds over the image the step started from (for the cache's size bound).</summary>
    public long SnapshotBytes { get; init; }
}

/// <summary>Which output stream a line came from.</summary>
internal enum LogStream
{
    Stdout,
    Stderr,
}
