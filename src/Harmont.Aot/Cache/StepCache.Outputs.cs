namespace Harmont.Aot.Cache;

/// <summary>Entries by key rather than by plan: the previous outputs incremental steps start from (<see cref="IncrementalOutputs"/>).</summary>
internal sealed partial class StepCache
{
    /// <summary>
    /// Opens the output workspace of the entry <paramref name="entryKey"/>, leased until the run ends, with every
    /// entry it is layered on; null when it is gone, from another backend, or not whole. Nothing is dropped:
    /// an entry a lookup by key would drop is the next lookup's to judge.
    /// </summary>
    public CacheHit? OpenOutput(string entryKey, string backend, Func<string> workspaceStrategy) =>
        OpenWorkspace(entryKey, backend, workspaceStrategy, out _);

    // The entry's output workspace opened and leased with every entry below it, from BACKEND (null: any); null,
    // saying why, when it is gone or not whole.
    private CacheHit? OpenWorkspace(string key, string? backend, Func<string> workspaceStrategy, out string? why)
    {
        if (_store.TryOpen(key) is not { } lease)
        {
            why = "its entry is gone";
            return null;
        }

        var layers = new List<string>();
        why = Hold(lease, leases =>
            LocalStaleness(lease, backend ?? lease.Entry.Backend ?? "", needsWorkspace: true, needsSnapshot: false) ?? OpenLayers(workspaceStrategy, leases, layers));
        return why is null ? new CacheHit(key, layers, Path.Combine(lease.Directory, SourcesFile), lease.Entry.Image) : null;
    }

    /// <summary>
    /// Publishes a step's output under <paramref name="entryKey"/>, which is not the step's cache key: an entry
    /// only an incremental step starts from, never a hit. It is bounded and evicted like any entry, and never
    /// pushed to the shared cache. False when the key is taken.
    /// </summary>
    public async Task<bool> RecordOutputAsync(string entryKey, string step, string backend, RecordedOutput output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        var components = new Dictionary<string, string>(StringComparer.Ordinal) { ["incremental"] = "the step's last output" };
        return await PublishAsync(entryKey, step, backend, components, (null, 0), output, cancellationToken) is not null;
    }
}
