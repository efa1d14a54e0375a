namespace Harmont.Aot.Workspaces;

/// <summary>
/// The workspaces of one run (DESIGN §4 rules 1–3, 5): a source base taken once and only when a step
/// executes, a fresh copy of it for each root, and for each child its parent's output exactly as
/// the parent left it. A parent's output is freed as soon as its last child has started from it.
/// </summary>
internal sealed class RunWorkspaces : IAsyncDisposable
{
    private readonly string _runRoot;
    private readonly string _sourceRoot;
    private readonly IWorkspaceStrategy _strategy;
    private readonly SemaphoreSlim _sourceGate = new(1, 1);
    private readonly Lock _outputsGate = new();
    private readonly Dictionary<string, ParentOutput> _outputs = new(StringComparer.Ordinal);
    private string? _sourceBase;
    private int _nextId;

    public RunWorkspaces(string runRoot, string sourceRoot, IWorkspaceStrategy strategy)
    {
        _runRoot = runRoot;
        _sourceRoot = sourceRoot;
        _strategy = strategy;
    }

    /// <summary>The run's private directory; everything the run creates on disk is under it.</summary>
    public string RunRoot => _runRoot;

    /// <summary>A fresh workspace for a root step: a copy of the source base.</summary>
    public async Task<string> ForRootAsync(string stepKey, CancellationToken cancellationToken)
    {
        var source = await SourceBaseAsync(cancellationToken);
        var path = NewPath(stepKey);
        await _strategy.CloneTreeAsync(source, path, cancellationToken);
        return path;
    }

    /// <summary>
    /// A workspace for a child that starts from <paramref name="parentKey"/>'s output. The last child
    /// to start takes the directory itself; earlier ones get a copy, so siblings never share writes.
    /// </summary>
    public async Task<string> ForChildAsync(string stepKey, string parentKey, CancellationToken cancellationToken)
    {
        var path = NewPath(stepKey);
        Task[] inFlight = [];
        TaskCompletionSource? cloned = null;
        ParentOutput output;
        lock (_outputsGate)
        {
            output = _outputs[parentKey];
            output.Remaining--;
            if (output.Remaining == 0)
            {
                _outputs.Remove(parentKey);
                inFlight = [.. output.Clones];
            }
            else
            {
                // Registered under the lock, so the last child cannot miss a copy still reading the tree.
                cloned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                output.Clones.Add(cloned.Task);
            }
        }

        if (cloned is not null)
        {
            try
            {
                await _strategy.CloneTreeAsync(output.Path, path, cancellationToken);
            }
            finally
            {
                cloned.SetResult();
            }

            return path;
        }

        await Task.WhenAll(inFlight);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        Directory.Move(output.Path, path);
        return path;
    }

    /// <summary>Keeps a finished step's workspace for the children that will start from it.</summary>
    public void KeepOutput(string stepKey, string path, int children)
    {
        if (children == 0)
        {
            Delete(path);
            return;
        }

        lock (_outputsGate)
        {
            _outputs[stepKey] = new ParentOutput(path, children);
        }
    }

    /// <summary>A child that will never start (skipped, cancelled) gives up its claim on the parent's output.</summary>
    public void Release(string parentKey)
    {
        string? free = null;
        lock (_outputsGate)
        {
            if (_outputs.TryGetValue(parentKey, out var output) && --output.Remaining == 0)
            {
                _outputs.Remove(parentKey);
                free = output.Path;
            }
        }

        if (free is not null)
        {
            Delete(free);
        }
    }

    /// <summary>Frees a workspace nobody will start from.</summary>
    public static void Delete(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _sourceGate.WaitAsync(CancellationToken.None);
        try
        {
            Delete(_runRoot);
        }
        finally
        {
            _sourceGate.Release();
            _sourceGate.Dispose();
        }
    }

    private async Task<string> SourceBaseAsync(CancellationToken cancellationToken)
    {
        await _sourceGate.WaitAsync(cancellationToken);
        try
        {
            if (_sourceBase is null)
            {
                var path = Path.Combine(_runRoot, "source");
                var files = await SourceTree.ListAsync(_sourceRoot, cancellationToken);
                await _strategy.CopyEntriesAsync(_sourceRoot, path, files, cancellationToken);
                _sourceBase = path;
            }

            return _sourceBase;
        }
        finally
        {
            _sourceGate.Release();
        }
    }

    private string NewPath(string stepKey)
    {
        var id = Interlocked.Increment(ref _nextId);
        var safe = string.Concat(stepKey.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
        return Path.Combine(_runRoot, "ws", $"{id:D3}-{safe}");
    }

    private sealed class ParentOutput(string path, int remaining)
    {
        public string Path { get; } = path;

        public int Remaining { get; set; } = remaining;

        public List<Task> Clones { get; } = [];
    }
}
