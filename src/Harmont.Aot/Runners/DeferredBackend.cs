namespace Harmont.Aot.Runners;

/// <summary>
/// A backend connected on first use: an engine that answered a ping is driven only once a step runs in it or a
/// hit's image is asked about, so a run whose steps all hit never builds a client or lists anything. A run that
/// never used it leaves nothing to reap or dispose.
/// </summary>
/// <param name="name">The backend's name, known before it connects (it keys cache entries).</param>
/// <param name="keepsSystemState">Whether it commits a step's system state.</param>
/// <param name="connect">Connects; throws when the engine no longer answers. Called once.</param>
internal sealed class DeferredBackend(string name, bool keepsSystemState, Func<CancellationToken, Task<IStepBackend>> connect) : IStepBackend
{
    private readonly object _gate = new();
    private Task<IStepBackend>? _connected;

    public string Name => name;

    public bool KeepsSystemState => keepsSystemState;

    /// <summary>The backend, once a use has connected it; null before.</summary>
    public IStepBackend? Connected => _connected is { IsCompletedSuccessfully: true } done ? done.Result : null;

    /// <summary>Connects now if no use has yet; every use shares the one connection.</summary>
    public Task<IStepBackend> ConnectAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            // Not the first caller's token: a cancelled lookup must not leave the rest of the run without its engine.
            _connected ??= Task.Run(() => connect(CancellationToken.None), CancellationToken.None);
            return _connected.WaitAsync(cancellationToken);
        }
    }

    public async Task<StepResult> RunAsync(StepInvocation invocation, CancellationToken cancellationToken) =>
        await (await ConnectAsync(cancellationToken)).RunAsync(invocation, cancellationToken);

    public async Task<bool> HasSnapshotAsync(string snapshot, CancellationToken cancellationToken) =>
        await (await ConnectAsync(cancellationToken)).HasSnapshotAsync(snapshot, cancellationToken);

    public async Task KeepSnapshotAsync(string snapshot, string cacheKey, CancellationToken cancellationToken) =>
        await (await ConnectAsync(cancellationToken)).KeepSnapshotAsync(snapshot, cacheKey, cancellationToken);

    public async Task DropSnapshotAsync(string snapshot, string cacheKey, CancellationToken cancellationToken) =>
        await (await ConnectAsync(cancellationToken)).DropSnapshotAsync(snapshot, cacheKey, cancellationToken);

    public async Task ReapAsync(CancellationToken cancellationToken)
    {
        if (await UsedAsync() is { } backend)
        {
            await backend.ReapAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (await UsedAsync() is { } backend)
        {
            await backend.DisposeAsync();
        }
    }

    // The connection a use made, waited for if still being made; null if none was, or it failed.
    private async Task<IStepBackend?> UsedAsync()
    {
        Task<IStepBackend>? connected;
        lock (_gate)
        {
            connected = _connected;
        }

        if (connected is null)
        {
            return null;
        }

        try
        {
            return await connected;
        }
#pragma warning disable CA1031 // Its failure was the use's to report.
        catch (Exception)
#pragma warning restore CA1031
        {
            return null;
        }
    }
}
