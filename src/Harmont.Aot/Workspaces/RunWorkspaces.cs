using Harmont.Aot.Cache;
using Harmont.Aot.Containment;
using Harmont.Aot.Keys;
using Harmont.Aot.Native.Linux;

namespace Harmont.Aot.Workspaces;

/// <summary>
/// The workspaces of one run (docs/workspaces.md): a source base taken once and only when a step
/// executes, a fresh workspace over it for each root, and for each child its parent's output exactly
/// as the parent left it. With a directory strategy a workspace is a clone and the last child takes
/// the parent's directory itself; with an overlay strategy it is a mount whose lower layers are its
/// lineage's layers, and a layer is deleted when no live workspace or kept output stacks on it.
/// Everything lives under <see cref="RunRoot"/>; disposing unmounts and deletes all of it.
/// </summary>
internal sealed class RunWorkspaces : IAsyncDisposable
{
    // An entry is stored as its own layer over the entry below it at most this many layers deep, then as a whole
    // tree again: every layer is one more lowerdir in each mount over it, and one overlay mount's options hold
    // only a page (about 35 entry paths).
    private const int MaxStackedEntries = 16;

    private readonly string _runRoot;
    private readonly string _sourceRoot;
    private readonly Lazy<IWorkspaceStrategy> _strategy;
    private readonly SemaphoreSlim _sourceGate = new(1, 1);
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ParentOutput> _outputs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LiveWorkspace> _live = new(StringComparer.Ordinal);
    private Layer? _sourceBase;
    private IReadOnlyList<string>? _sourceFiles;
    private readonly Func<IReadOnlyList<string>, SourceHashes> _hashes;
    private Task<SourceManifest>? _manifest;

    // Files copied into the snapshot so far; under _sourceGate. Each is taken once per run.
    private readonly HashSet<string> _taken = new(StringComparer.Ordinal);
    private int _nextId;

    /// <param name="runRoot">The run's private directory.</param>
    /// <param name="sourceRoot">The user's working tree.</param>
    /// <param name="strategy">How workspaces are made.</param>
    /// <param name="sourceFiles">
    /// The working tree's listing when the run already made one (to hash onChange globs), so the snapshot
    /// holds exactly the files the keys were computed from; null lists the tree when a step first executes.
    /// </param>
    /// <param name="hashes">Hashes a listing's files for the source manifest; by default without a memo.</param>
    public RunWorkspaces(string runRoot, string sourceRoot, IWorkspaceStrategy strategy, IReadOnlyList<string>? sourceFiles = null, Func<IReadOnlyList<string>, SourceHashes>? hashes = null)
        : this(runRoot, sourceRoot, new Lazy<IWorkspaceStrategy>(strategy ?? throw new ArgumentNullException(nameof(strategy))), sourceFiles, hashes)
    {
    }

    /// <summary>A run whose strategy is probed only when the first workspace is made: a fully cached run never probes.</summary>
    public RunWorkspaces(string runRoot, string sourceRoot, Lazy<IWorkspaceStrategy> strategy, IReadOnlyList<string>? sourceFiles = null, Func<IReadOnlyList<string>, SourceHashes>? hashes = null)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        _hashes = hashes ?? (files => new SourceHashes(sourceRoot, files, FileHashMemo.InMemory()));
        _runRoot = Path.GetFullPath(runRoot);
        _sourceRoot = sourceRoot;
        _sourceFiles = sourceFiles;
        _strategy = strategy;
        Directory.CreateDirectory(_runRoot);
    }

    private string SnapshotPath => Path.Combine(_runRoot, "source");

    /// <summary>The run's private directory; everything the run creates on disk is under it.</summary>
    public string RunRoot => _runRoot;

    /// <summary>How this run's workspaces are made.</summary>
    public IWorkspaceStrategy Strategy => _strategy.Value;

    private ILayeredWorkspaceStrategy? Layered => Strategy as ILayeredWorkspaceStrategy;

    /// <summary>A fresh workspace for a root step: the source base.</summary>
    public async Task<string> ForRootAsync(string stepKey, CancellationToken cancellationToken)
    {
        var source = await SourceBaseAsync(cancellationToken);
        lock (_gate)
        {
            source.References++;
        }

        return await CreateAsync(stepKey, [source], cancellationToken);
    }

    /// <summary>
    /// A workspace for a child that starts from <paramref name="parentKey"/>'s output. Siblings never
    /// share writes: each gets its own clone or its own upper layer. With a directory strategy the
    /// last child to start takes the parent's directory itself.
    /// </summary>
    public async Task<string> ForChildAsync(string stepKey, string parentKey, CancellationToken cancellationToken)
    {
        ParentOutput output;
        bool last;
        TaskCompletionSource? clone = null;
        lock (_gate)
        {
            output = _outputs[parentKey];
            last = --output.Remaining == 0;
            if (last)
            {
                _outputs.Remove(parentKey);
            }

            // The child's references, taken with its claim, so no sibling can free a layer it is about to use.
            foreach (var layer in output.Stack)
            {
                layer.References++;
            }

            if (Layered is null && !last)
            {
                // Registered under the lock, so the last child cannot move the tree while this copy reads it.
                clone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                output.Clones.Add(clone.Task);
            }
        }

        if (Layered is not null || !last)
        {
            try
            {
                return await CreateAsync(stepKey, output.Stack, cancellationToken, output.Entry);
            }
            finally
            {
                clone?.SetResult();
                if (last)
                {
                    ReleaseLayers(output.Stack);
                }
            }
        }

        try
        {
            Task[] inFlight;
            lock (_gate)
            {
                inFlight = [.. output.Clones];
            }

            await Task.WhenAll(inFlight);
            cancellationToken.ThrowIfCancellationRequested();
            var path = NewPath(stepKey);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            Directory.Move(output.Stack[0].Path, path);
            lock (_gate)
            {
                output.Stack[0].Moved = true;
            }

            Register(new LiveWorkspace(path, [new Layer(path, path)], null));
            return path;
        }
        finally
        {
            // The child's reference and the output's: a moved directory is not deleted, a failed move is.
            ReleaseLayers(output.Stack);
            ReleaseLayers(output.Stack);
        }
    }

    /// <summary>
    /// A workspace for a child of a cache-hit parent (docs/workspaces.md): the cached output as the cached steps
    /// left it, plus the source delta since the entry was made: files new or changed since are written,
    /// files gone since are removed, and a source file unchanged since stays exactly as the cached steps
    /// left it (modified, deleted or untouched). The cached output itself is never written.
    /// </summary>
    /// <param name="stepKey">The child.</param>
    /// <param name="entryKey">The cache entry the output comes from; a workspace over it may later be persisted as a layer on it.</param>
    /// <param name="cachedLayers">The entry's workspace: one directory, or overlay layers topmost first (layered strategies only).</param>
    /// <param name="recorded">The entry's source manifest: the source its output was made from.</param>
    /// <param name="cancellationToken">Stops the preparation.</param>
    /// <param name="overwritten">Told the changed source files the cached steps had themselves changed or deleted (see <see cref="OverwrittenSource"/>).</param>
    /// <param name="incremental">
    /// The output is an incremental step's own last one (docs/workspaces.md#incremental-steps): the workspace is never stored
    /// as a layer on it, since that entry is replaced, and each file the delta writes gets the current time as its
    /// mtime, so a build tool sees it newer than anything it made from the old one.
    /// </param>
    /// <remarks>
    /// Only the delta's files are taken into the run's source snapshot, so a one-file edit under a cached
    /// parent copies one file, not the tree. Each file is still taken at most once per run: every step of
    /// the run sees the same version of it.
    /// </remarks>
    public async Task<string> ForCachedParentAsync(
        string stepKey, string entryKey, IReadOnlyList<string> cachedLayers, SourceManifest recorded, CancellationToken cancellationToken,
        Action<IReadOnlyList<string>>? overwritten = null, bool incremental = false)
    {
        ArgumentNullException.ThrowIfNull(cachedLayers);
        if (cachedLayers.Count != 1 && Layered is null)
        {
            throw new InvalidOperationException($"the cached output of {entryKey[..16]} is {cachedLayers.Count} overlay layers; the {Strategy.Name} strategy cannot stack them.");
        }

        var now = await SourceManifestAsync(cancellationToken);
        var delta = SourceDelta.Compute(recorded, now);
        if (OperatingSystem.IsLinux() && overwritten is not null && OverwrittenSource.Find(cachedLayers, recorded, delta) is { Count: > 0 } files)
        {
            overwritten(files);
        }

        var path = await CreateAsync(
            stepKey, [.. cachedLayers.Select(l => new Layer(Path.GetFullPath(l), null))], cancellationToken, incremental ? null : new EntryOutput(entryKey, cachedLayers.Count));
        try
        {
            await TakeAsync([.. delta.Written.Where(f => !now.Files[f].IsDirectory)], cancellationToken);
            if (OperatingSystem.IsLinux())
            {
                await SourceOverlay.ApplyAsync(Strategy.Cloner, SnapshotPath, delta, now, path, cancellationToken);
                if (incremental)
                {
                    SourceOverlay.TouchWritten(delta, now, path);
                }
            }
            else
            {
                await SourceOverlay.ApplyManagedAsync(SnapshotPath, delta, now, path, cancellationToken);
            }
        }
        catch
        {
            Discard(path);
            throw;
        }

        return path;
    }

    /// <summary>The working tree's files (relative paths) as this run lists them.</summary>
    public async Task<IReadOnlyList<string>> SourceFilesAsync(CancellationToken cancellationToken)
    {
        await _sourceGate.WaitAsync(cancellationToken);
        try
        {
            return _sourceFiles ??= await SourceTree.ListAsync(_sourceRoot, cancellationToken);
        }
        finally
        {
            _sourceGate.Release();
        }
    }

    /// <summary>The source as this run sees it, file by file with mode and content hash: the manifest a cache entry records (docs/workspaces.md). Hashed once per run.</summary>
    public async Task<SourceManifest> SourceManifestAsync(CancellationToken cancellationToken)
    {
        var files = await SourceFilesAsync(cancellationToken);
        lock (_gate)
        {
            _manifest ??= Task.Run(() => _hashes(files).ManifestAsync(files, CancellationToken.None), CancellationToken.None);
        }

        return await _manifest.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Puts a finished workspace's content into a new <paramref name="destination"/> (a cache entry). A
    /// workspace that is an overlay over a cached entry's output gives its own upper layer, whatever the
    /// size of the tree: moved when <paramref name="lastUse"/> (no child of this run starts from it),
    /// else hard-linked, so the run's children keep the layer where it is. The result then names the
    /// entry it is layered on. Anything else is cloned (sharing extents where the filesystem can) and
    /// the result is null.
    /// </summary>
    public async Task<PersistedLayer?> PersistAsync(string workspace, string destination, bool lastUse, CancellationToken cancellationToken)
    {
        LiveWorkspace? live;
        lock (_gate)
        {
            _live.TryGetValue(Path.GetFullPath(workspace), out live);
        }

        if (OperatingSystem.IsLinux() && live is { Mount: { } mount, BaseEntry: { } entry } && entry.Depth < MaxStackedEntries
            && SameFileSystem(live.Stack[0].Path, Path.GetDirectoryName(destination)!))
        {
            // The layer is complete only once unmounted; the step is done with its workspace.
            mount.Unmount();
            if (lastUse)
            {
                // Moved, the run no longer deletes it.
                lock (_gate)
                {
                    live.Stack[0].Moved = true;
                }

                Directory.Move(live.Stack[0].Path, destination);
            }
            else
            {
                OverlayLayer.Link(live.Stack[0].Path, destination);
            }

            live.PersistedDepth = entry.Depth + 1;
            return new PersistedLayer(entry.Key, Strategy.Name);
        }

        if (OperatingSystem.IsLinux() && live is { Mount: not null } && OnOneFileSystem(live.Stack, Path.GetDirectoryName(destination)!))
        {
            // A whole tree, but its files are the layers' own: linked rather than copied (about 40 ms for a
            // 3 MB tree of 115 files on ext4; bench/README.md). The step is done with them, and so is the run.
            await Strategy.Cloner.LinkMergedAsync(workspace, [.. live.Stack.Select(l => l.Path)], destination, cancellationToken);
        }
        else
        {
            await Strategy.CloneTreeAsync(workspace, destination, cancellationToken);
        }

        if (live is not null)
        {
            live.PersistedDepth = 1;
        }

        return null;
    }

    /// <summary>
    /// Keeps a finished step's workspace for the children that will start from it; an overlay is unmounted and its layers kept.
    /// <paramref name="entry"/> names the cache entry this run published from exactly this output (persisted by
    /// <see cref="PersistAsync"/>), if any: a child's own overlay layer is then a layer over that entry, and its own entry
    /// is stored (and shared) as that layer instead of a copy of the whole tree.
    /// </summary>
    public void KeepOutput(string stepKey, string path, int children, string? entry = null)
    {
        var live = Unregister(path);
        if (live is null)
        {
            Delete(path);
            return;
        }

        if (live.Mount is not null)
        {
            // The output is frozen: its layers stay, its mount point goes.
            live.Mount.Unmount();
            Delete(path);
        }

        if (children == 0)
        {
            ReleaseLayers(live.Stack);
            return;
        }

        lock (_gate)
        {
            _outputs[stepKey] = new ParentOutput(live.Stack, children)
            {
                Entry = entry is not null && live.PersistedDepth > 0 ? new EntryOutput(entry, live.PersistedDepth) : null,
            };
        }
    }

    /// <summary>A child that will never start (skipped, cancelled) gives up its claim on the parent's output.</summary>
    public void Release(string parentKey)
    {
        ParentOutput? free = null;
        lock (_gate)
        {
            if (_outputs.TryGetValue(parentKey, out var output) && --output.Remaining == 0)
            {
                _outputs.Remove(parentKey);
                free = output;
            }
        }

        if (free is not null)
        {
            ReleaseLayers(free.Stack);
        }
    }

    /// <summary>Frees a workspace nobody will start from: unmounts it and deletes its own layer now.</summary>
    public void Discard(string path)
    {
        var live = Unregister(path);
        if (live is null)
        {
            Delete(path);
            return;
        }

        live.Mount?.Unmount();
        Delete(path);
        ReleaseLayers(live.Stack);
    }

    /// <summary>
    /// Frees a workspace directory: whatever is mounted at or under it is unmounted first. An overlay's
    /// upper layer is left for <see cref="DisposeAsync"/>; <see cref="Discard"/> frees it at once.
    /// </summary>
    public static void Delete(string path)
    {
        MountTable.UnmountUnder(path);
        HostileTree.Delete(path);
    }

    /// <summary>Unmounts every mount under the run root and deletes it, however the run ended.</summary>
    public async ValueTask DisposeAsync()
    {
        await _sourceGate.WaitAsync(CancellationToken.None);
        try
        {
            lock (_gate)
            {
                foreach (var live in _live.Values)
                {
                    live.Mount?.Unmount();
                }

                _live.Clear();
                _outputs.Clear();
            }

            Delete(_runRoot);
        }
        finally
        {
            _sourceGate.Release();
            _sourceGate.Dispose();
        }
    }

    // The caller holds one reference on each lower for the new workspace: a clone gives it back when
    // done, a mount keeps it for as long as the workspace (or the output it becomes) lives.
    private async Task<string> CreateAsync(string stepKey, IReadOnlyList<Layer> lowers, CancellationToken cancellationToken, EntryOutput? baseEntry = null)
    {
        var path = NewPath(stepKey);
        if (Layered is null)
        {
            try
            {
                cancellationToken.ThrowIfCancellationRequested();
                await Strategy.CloneTreeAsync(lowers[0].Path, path, cancellationToken);
            }
            catch
            {
                Delete(path);
                throw;
            }
            finally
            {
                ReleaseLayers(lowers);
            }

            Register(new LiveWorkspace(path, [new Layer(path, path)], null));
            return path;
        }

        var layerDir = Path.Combine(_runRoot, "layers", Path.GetFileName(path));
        var own = new Layer(Path.Combine(layerDir, "upper"), layerDir);
        OverlayMount mount;
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            mount = await Layered!.MountAsync([.. lowers.Select(l => l.Path)], own.Path, Path.Combine(layerDir, "work"), path, cancellationToken);
        }
        catch
        {
            Delete(path);
            Delete(layerDir);
            ReleaseLayers(lowers);
            throw;
        }

        Register(new LiveWorkspace(path, [own, .. lowers], mount) { BaseEntry = baseEntry });
        return path;
    }

    private void Register(LiveWorkspace workspace)
    {
        lock (_gate)
        {
            _live[workspace.Path] = workspace;
        }
    }

    private LiveWorkspace? Unregister(string path)
    {
        lock (_gate)
        {
            return _live.Remove(Path.GetFullPath(path), out var live) ? live : null;
        }
    }

    private void ReleaseLayers(IReadOnlyList<Layer> stack)
    {
        var free = new List<string>();
        lock (_gate)
        {
            foreach (var layer in stack)
            {
                if (--layer.References == 0 && layer.DeletePath is { } delete && !layer.Moved)
                {
                    free.Add(delete);
                }
            }
        }

        foreach (var path in free)
        {
            Delete(path);
        }
    }

    // The whole source base, for roots: whatever was not taken yet is copied now.
    private async Task<Layer> SourceBaseAsync(CancellationToken cancellationToken)
    {
        await _sourceGate.WaitAsync(cancellationToken);
        try
        {
            if (_sourceBase is null)
            {
                var files = _sourceFiles ??= await SourceTree.ListAsync(_sourceRoot, cancellationToken);
                await Strategy.CopyEntriesAsync(_sourceRoot, SnapshotPath, [.. files.Where(f => !_taken.Contains(f))], cancellationToken);
                _taken.UnionWith(files);

                // Held by the run itself: roots may start from it until the end.
                _sourceBase = new Layer(SnapshotPath, SnapshotPath) { References = 1 };
            }

            return _sourceBase;
        }
        finally
        {
            _sourceGate.Release();
        }
    }

    // Takes the files not taken yet into the snapshot; a file taken earlier in the run stays as taken, so a
    // later edit to the working tree never reaches one step and not another.
    private async Task TakeAsync(IReadOnlyList<string> files, CancellationToken cancellationToken)
    {
        await _sourceGate.WaitAsync(cancellationToken);
        try
        {
            var take = files.Where(f => !_taken.Contains(f)).ToList();
            if (take.Count > 0)
            {
                await Strategy.CopyEntriesAsync(_sourceRoot, SnapshotPath, take, cancellationToken);
                _taken.UnionWith(take);
            }

            Directory.CreateDirectory(SnapshotPath);
        }
        finally
        {
            _sourceGate.Release();
        }
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static bool SameFileSystem(string a, string b) =>
        LinuxSyscalls.Stat(a, out var first) == Errno.None && LinuxSyscalls.Stat(b, out var second) == Errno.None && first.Device == second.Device;

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static bool OnOneFileSystem(IReadOnlyList<Layer> layers, string directory)
    {
        foreach (var layer in layers)
        {
            if (!SameFileSystem(layer.Path, directory))
            {
                return false;
            }
        }

        return true;
    }

    private string NewPath(string stepKey)
    {
        var id = Interlocked.Increment(ref _nextId);
        var safe = string.Concat(stepKey.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
        return Path.Combine(_runRoot, "ws", $"{id:D3}-{safe}");
    }

    // One directory a workspace is built from: a clone's own directory, an overlay's upper, the source
    // base or a cache entry (never deleted: DeletePath is null). Counted under _gate.
    private sealed class Layer(string path, string? deletePath)
    {
        public string Path { get; } = path;

        public string? DeletePath { get; } = deletePath;

        public int References { get; set; } = 1;

        public bool Moved { get; set; }
    }

    private sealed record LiveWorkspace(string Path, IReadOnlyList<Layer> Stack, OverlayMount? Mount)
    {
        /// <summary>The cache entry whose workspace the lowers are exactly: a hit's, or one this run published from the parent's output.</summary>
        public EntryOutput? BaseEntry { get; init; }

        /// <summary>How many layers the entry persisted from this workspace has; 0 until one is.</summary>
        public int PersistedDepth { get; set; }
    }

    /// <summary>A cache entry whose workspace is exactly some output, and how many overlay layers that workspace is.</summary>
    private sealed record EntryOutput(string Key, int Depth);

    private sealed class ParentOutput(IReadOnlyList<Layer> stack, int remaining)
    {
        public IReadOnlyList<Layer> Stack { get; } = stack;

        public int Remaining { get; set; } = remaining;

        public List<Task> Clones { get; } = [];

        public EntryOutput? Entry { get; init; }
    }
}
