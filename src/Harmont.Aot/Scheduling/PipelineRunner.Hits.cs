using System.Diagnostics;
using Harmont.Aot.Events;
using Harmont.Aot.Model;
using Harmont.Aot.Runners;

namespace Harmont.Aot.Scheduling;

// Hits: which steps may run, looking each up, and what a child that runs after all needs of its cached parent.
internal sealed partial class PipelineRunner
{
    // A hit's output layers, opened once when its first child runs if its lookup did not open them.
    private IReadOnlyList<string> OpenedLayers(string parent)
    {
        lock (_hits)
        {
            var hit = _hits[parent] = _cache!.WithWorkspace(parent, _hits[parent], () => _workspaces.Strategy.Name);
            return hit.Layers;
        }
    }

    // A hit's image, asked about now if its lookup did not (its children all looked cached then). One that is
    // gone fails the child and condemns the entry, so the next run executes the parent.
    private async Task<string> CheckedSnapshotAsync(string parent, string image, IStepBackend backend, CancellationToken cancellation)
    {
        if (!_unchecked.ContainsKey(parent) || await backend.HasSnapshotAsync(image, cancellation))
        {
            return image;
        }

        _cache!.Condemn(_hits[parent].Key);
        throw new PipelineException(
            $"the cached image of '{parent}' ({image}) is no longer on the engine. Its entry is removed when this run ends; run again and '{parent}' executes.");
    }

    // Whether a hit's image must be on the engine: some child on its backend may run from it.
    private bool NeedsSnapshot(string key, IStepBackend backend) =>
        backend.KeepsSystemState && _graph.ChildrenOf(key).Any(child => _backends.For(child) == backend && MayExecute(child));

    // Whether a step may run rather than hit, as this machine's disk can tell before the run: it is not cached, its
    // entry will not do, or one of its children may run (its own hit would then need its image and output, which may
    // be gone too). A hit whose children all hit needs neither, so a run of hits never asks the engine or mounts.
    private bool MayExecute(string key) => _mayExecute.GetOrAdd(key, k => MayRunItself(k) || _graph.ChildrenOf(k).Any(MayExecute));

    // Whether the step's own entry says it may run: not cached, or an entry that will not do.
    private bool MayRunItself(string key) => _mayRunItself.GetOrAdd(key, k =>
        _cache?.Plan[k] is not { IsCached: true } || !_cache.LooksUsable(k, _backends.For(k).Name, needsWorkspace: false, needsSnapshot: false));

    // A hit, decided before any workspace or container exists: the children start from the entry's
    // output and image, and nothing runs. Null is a miss (or not cached); a lookup that fails is a
    // miss said in the step's log, since running the step is always correct.
    private async Task<StepStatus?> TryHitAsync(string key, RunControl control)
    {
        if (_cache?.Plan[key] is not { IsCached: true })
        {
            return null;
        }

        var clock = Stopwatch.StartNew();
        var backend = _backends.For(key);
        try
        {
            if (!await LookUpAsync(key, backend, _graph.ChildrenOf(key).Any(MayExecute), NeedsSnapshot(key, backend), control.StopAll.Token))
            {
                return null;
            }
        }
        catch (OperationCanceledException) when (control.StopAll.IsCancellationRequested)
        {
            return Skip(key, control.Why());
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or DockerEngineException)
        {
            _events.Publish(new StepLog(DateTimeOffset.UtcNow, key, true, $"harmont: cache lookup failed, running the step: {_secrets.Redact(ex.Message)}"));
            return null;
        }

        _events.Publish(new StepFinished(DateTimeOffset.UtcNow, key, StepStatus.Passed, 0, clock.Elapsed, null));
        return StepStatus.Passed;
    }

    private async Task<bool> LookUpAsync(string key, IStepBackend backend, bool needsWorkspace, bool needsSnapshot, CancellationToken cancellation)
    {
        var lookup = await _cache!.LookUpAsync(key, backend, needsWorkspace, needsSnapshot, () => _workspaces.Strategy.Name, cancellation);
        if (lookup.Dropped is { } note)
        {
            _events.Publish(new StepLog(DateTimeOffset.UtcNow, key, true, $"harmont: {note}"));
        }

        if (lookup.Hit is not { } hit)
        {
            return false;
        }

        _hits[key] = hit;
        if (hit.Image is not null)
        {
            _snapshots[key] = hit.Image;
            if (!needsSnapshot)
            {
                _unchecked[key] = true;
            }
        }

        _cache.SetOutcome(key, "hit");
        _events.Publish(new StepCacheHit(DateTimeOffset.UtcNow, key, hit.Key));
        return true;
    }
}
