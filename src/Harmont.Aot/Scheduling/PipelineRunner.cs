using System.Collections.Concurrent;
using System.Diagnostics;
using Harmont.Aot.Cache;
using Harmont.Aot.Events;
using Harmont.Aot.Model;
using Harmont.Aot.Runners;
using Harmont.Aot.Tuning;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Scheduling;

/// <summary>
/// Runs a validated graph: each step starts as soon as its prerequisites pass and a slot is free.
/// A failure cancels running steps and skips the rest (fail-fast) unless keep-going is set, in
/// which case only the failure's dependents are skipped.
/// </summary>
internal sealed partial class PipelineRunner
{
    private readonly PipelineGraph _graph;
    private readonly BackendSet _backends;
    private readonly RunWorkspaces _workspaces;
    private readonly RunOptions _options;
    private readonly IRunEventSink _events;
    private readonly string _runId;
    private readonly StepSecrets _secrets;
    private readonly StepCache? _cache;
    private readonly IncrementalOutputs? _incremental;
    private readonly CacheMountStore? _mounts;
    private readonly RunTimings _timings;
    private readonly ConcurrentDictionary<string, string> _snapshots = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CacheHit> _hits = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<SourceManifest>> _manifests = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _warned = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _mayExecute = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _mayRunItself = new(StringComparer.Ordinal);

    // Steps on the default network, in a backend that keeps system state, that may still start (see NetworkSharedLater).
    private int _defaultNetworkStepsLeft;

    // Hits whose image the engine was not asked about, as no child was expected to run from it.
    private readonly ConcurrentDictionary<string, bool> _unchecked = new(StringComparer.Ordinal);

    public PipelineRunner(
        PipelineGraph graph,
        BackendSet backends,
        RunWorkspaces workspaces,
        RunOptions options,
        IRunEventSink events,
        string runId,
        StepSecrets? secrets = null,
        StepCache? cache = null,
        IncrementalOutputs? incremental = null,
        CacheMountStore? mounts = null,
        RunTimings? timings = null)
    {
        _mounts = mounts;
        _timings = timings ?? new RunTimings();
        _secrets = secrets ?? StepSecrets.None;
        _cache = cache;
        _incremental = incremental;
        _graph = graph;
        _backends = backends;
        _workspaces = workspaces;
        _options = options;
        _events = events;
        _runId = runId;
    }

    public async Task<RunResult> RunAsync(CancellationToken userCancellation)
    {
        var clock = Stopwatch.StartNew();
        var pipeline = _graph.Pipeline;
        _events.Publish(new BuildStarted(DateTimeOffset.UtcNow, pipeline.Slug, _runId, [.. pipeline.Steps.Select(s => s.Key)])
        {
            Parents = pipeline.Steps.Where(s => s.From is not null).ToDictionary(s => s.Key, s => s.From!, StringComparer.Ordinal),
        });

        using var buildTimeout = new CancellationTokenSource();
        if (pipeline.Timeout is { } limit)
        {
            buildTimeout.CancelAfter(limit);
        }

        _defaultNetworkStepsLeft = pipeline.Steps.Count(s => s.Network == Network.Default && _backends.For(s.Key).KeepsSystemState && MayRunItself(s.Key));

        // An engine connected on first use is connected now if a step of its may run, beside the lookups.
        foreach (var deferred in pipeline.Steps.Where(s => MayExecute(s.Key)).Select(s => _backends.For(s.Key)).OfType<DeferredBackend>().Distinct())
        {
            _ = deferred.ConnectAsync(CancellationToken.None);
        }

        using var stopAll = CancellationTokenSource.CreateLinkedTokenSource(userCancellation, buildTimeout.Token);
        var control = new RunControl(stopAll, buildTimeout.Token, userCancellation);
        using var slots = new SemaphoreSlim(Math.Max(1, _options.Parallelism));
        var tasks = new Dictionary<string, Task<StepStatus>>(StringComparer.Ordinal);

        // Tasks are created in an order where prerequisites exist first; the graph has no cycles.
        foreach (var key in TopologicalOrder())
        {
            var step = _graph[key];
            var prerequisites = PipelineGraph.Prerequisites(step).Select(p => tasks[p]).ToArray();
            tasks[key] = RunStepAsync(key, prerequisites, slots, control);
        }

        var statuses = await Task.WhenAll(tasks.Values);
        var byKey = tasks.ToDictionary(p => p.Key, p => p.Value.Result, StringComparer.Ordinal);
        var exitCode = RunResult.ExitCodeFor(statuses, userCancellation.IsCancellationRequested, buildTimeout.IsCancellationRequested);
        _events.Publish(new BuildFinished(DateTimeOffset.UtcNow, pipeline.Slug, exitCode, clock.Elapsed));
        return new RunResult(exitCode, byKey);
    }

    private async Task<StepStatus> RunStepAsync(string key, Task<StepStatus>[] prerequisites, SemaphoreSlim slots, RunControl control)
    {
        await Task.Yield();
        var step = _graph[key];
        _events.Publish(new StepQueued(DateTimeOffset.UtcNow, key));

        var inputs = await Task.WhenAll(prerequisites);
        if (inputs.Any(s => s != StepStatus.Passed))
        {
            var blockers = PipelineGraph.Prerequisites(step).Where((_, i) => inputs[i] != StepStatus.Passed);
            return Skip(step.Key, $"{string.Join(", ", blockers)} did not pass");
        }

        // A hit takes no slot: it runs nothing, and twenty hits should not queue behind two slots.
        var timings = _timings.For(key);
        timings.Began = _timings.Now;
        var lookup = Stopwatch.GetTimestamp();
        var hit = await TryHitAsync(key, control);
        timings.AddSince(StepPhase.Lookup, lookup);
        if (hit is { } done)
        {
            timings.Ended = _timings.Now;
            return done;
        }

        var queued = Stopwatch.GetTimestamp();
        try
        {
            await slots.WaitAsync(control.StopAll.Token);
            timings.Queued = Stopwatch.GetElapsedTime(queued);
        }
        catch (OperationCanceledException)
        {
            return Skip(step.Key, control.Why());
        }

        try
        {
            return await ExecuteAsync(key, control, timings);
        }
        finally
        {
            timings.Ended = _timings.Now;
            slots.Release();
        }
    }

    private async Task<StepStatus> ExecuteAsync(string key, RunControl control, StepTimings timings)
    {
        var clock = Stopwatch.StartNew();
        var step = _graph[key];
        var stopAll = control.StopAll;
        using var stepTimeout = CancellationTokenSource.CreateLinkedTokenSource(stopAll.Token);
        if (step.Timeout is { } limit)
        {
            stepTimeout.CancelAfter(limit);
        }

        var cancellation = stepTimeout.Token;
        var backend = _backends.For(key);
        var plan = _cache?.Plan[key];
        string? workspace = null;
        CacheMountLease? mounts = null;
        var phases = _options.PhaseLog is null ? null : new StepPhases();
        StepStatus status;
        int? exitCode = null;
        string? reason = null;
        try
        {
            var children = _graph.ChildrenOf(key);
            var keepSnapshot = KeepsSnapshot(key, backend);
            mounts = await AcquireMountsAsync(step, cancellation);
            var phase = Stopwatch.GetTimestamp();
            workspace = await IncrementalWorkspaceAsync(step, backend, cancellation)
                ?? (step.From is null ? await _workspaces.ForRootAsync(key, cancellation)
                : _hits.TryGetValue(step.From, out var cachedParent)
                    ? await _workspaces.ForCachedParentAsync(key, cachedParent.Key, OpenedLayers(step.From), ManifestOf(step.From, cachedParent), cancellation, files => Warn(step.From, files))
                    : await _workspaces.ForChildAsync(key, step.From, cancellation));
            phases?.Mark("workspace");

            var baseImage = step.From is not null && _snapshots.TryGetValue(step.From, out var snapshot)
                ? await CheckedSnapshotAsync(step.From, snapshot, backend, cancellation)
                : step.Image ?? _graph.Pipeline.DefaultImage;
            timings.AddSince(StepPhase.Prepare, phase);

            _events.Publish(new StepStarted(DateTimeOffset.UtcNow, key, backend.Name));
            var invocation = new StepInvocation(
                _runId, key, plan?.Command ?? step.Command(), workspace, baseImage, step.Env, keepSnapshot,
                (stream, line) => _events.Publish(new StepLog(DateTimeOffset.UtcNow, key, stream == LogStream.Stderr, _secrets.Redact(line))))
            {
                Cwd = step.Cwd,
                Secrets = _secrets.For(step),
                Masker = _secrets.Masker,
                CacheKey = plan?.Key,
                Mounts = mounts?.Mounts ?? [],
                Timings = timings,
                Phases = phases,
                Network = step.Network,
                NetworkSharedLater = step.Network == Network.Default && backend.KeepsSystemState && Interlocked.Decrement(ref _defaultNetworkStepsLeft) > 0,
            };
            phase = Stopwatch.GetTimestamp();
            StepResult result;
            try
            {
                result = await backend.RunAsync(invocation, cancellation);
            }
            finally
            {
                // The backend adds its start and commit; the rest of its time is the command's.
                timings.Add(StepPhase.Command, Stopwatch.GetElapsedTime(phase) - timings[StepPhase.Start] - timings[StepPhase.Commit]);
            }

            exitCode = result.ExitCode;
            status = result.ExitCode == 0 ? StepStatus.Passed : StepStatus.Failed;
            if (status == StepStatus.Passed)
            {
                if (result.Snapshot is not null)
                {
                    _snapshots[key] = result.Snapshot;
                }

                phase = Stopwatch.GetTimestamp();
                var recorded = plan is { IsCached: true } && await RecordAsync(key, workspace, children.Count == 0, result, backend, cancellation);
                if (step.Incremental && _incremental is not null)
                {
                    await KeepIncrementalAsync(key, workspace, recorded ? plan!.Key : null, backend, cancellation);
                }

                timings.AddSince(StepPhase.Persist, phase);
                phases?.Mark("persist");
                _workspaces.KeepOutput(key, workspace, children.Count, recorded ? plan!.Key : null);
                workspace = null;
                phases?.Mark("keep-output");
            }
        }
        catch (OperationCanceledException) when (stepTimeout.IsCancellationRequested && !stopAll.IsCancellationRequested)
        {
            status = StepStatus.TimedOut;
            reason = $"exceeded its timeout of {DurationText.Format(step.Timeout!.Value)}";
        }
        catch (OperationCanceledException) when (stopAll.IsCancellationRequested)
        {
            status = control.BuildTimedOut ? StepStatus.TimedOut : StepStatus.Cancelled;
            reason = control.Why();
        }
#pragma warning disable CA1031 // One step's unexpected error fails that step, not the whole runner.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            status = StepStatus.Failed;
            reason = _secrets.Redact(ex.Message);
            _events.Publish(new StepLog(DateTimeOffset.UtcNow, key, true, $"harmont: {reason}"));
        }
        finally
        {
            mounts?.Dispose();
            if (workspace is not null)
            {
                _workspaces.Discard(workspace);
            }
        }

        if (phases is not null)
        {
            _options.PhaseLog!.Write(_runId, key, phases);
        }

        _cache?.SetOutcome(key, status == StepStatus.Passed ? "executed" : DurationText.Status(status));
        if (status is StepStatus.Failed or StepStatus.TimedOut && !_options.KeepGoing)
        {
            await stopAll.CancelAsync();
        }

        _events.Publish(new StepFinished(DateTimeOffset.UtcNow, key, status, exitCode, clock.Elapsed, reason));
        if (status is StepStatus.Failed or StepStatus.TimedOut)
        {
            var message = reason ?? $"step '{key}' failed with exit code {exitCode}";
            // A step's own timeout reads "step 'x' exceeded its timeout of …"; the build's, "step 'x' stopped: the build timeout passed".
            var timedOut = step.Timeout is not null && !control.BuildTimedOut ? $"step '{key}' {reason}" : $"step '{key}' stopped: {reason}";
            _events.Publish(new StepFailure(DateTimeOffset.UtcNow, key, status, exitCode, status == StepStatus.TimedOut ? timedOut : message));
        }

        return status;
    }

    // Said once per cached parent, in its child's log and after the run by --explain.
    private void Warn(string parent, IReadOnlyList<string> files)
    {
        if (_warned.TryAdd(parent, true))
        {
            foreach (var file in files)
            {
                var warning = OverwrittenSource.Describe(parent, file);
                _cache?.AddWarning(warning);
                _events.Publish(new StepLog(DateTimeOffset.UtcNow, parent, true, $"harmont: warning: {warning}"));
            }
        }
    }

    // A hit's manifest is read once, when its first child executes; siblings share it.
    // A damaged one fails the child and condemns the entry, so the next run executes the parent.
    private SourceManifest ManifestOf(string parent, CacheHit hit)
    {
        try
        {
            return _manifests.GetOrAdd(hit.Key, _ => new Lazy<SourceManifest>(() => SourceManifest.Read(hit.SourcesFile))).Value;
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException)
        {
            _cache!.Condemn(hit.Key);
            throw new PipelineException(
                $"the cache entry of '{parent}' ({hit.Key[..16]}) is damaged: {ex.Message}. It is removed when this run ends; run again and '{parent}' executes.");
        }
    }

    private StepStatus Skip(string key, string reason)
    {
        // A child that never starts gives back its claim, so the parent's output is freed now.
        if (_graph[key].From is { } parent)
        {
            _workspaces.Release(parent);
        }

        _cache?.SetOutcome(key, "skipped");
        _events.Publish(new StepFinished(DateTimeOffset.UtcNow, key, StepStatus.Skipped, null, TimeSpan.Zero, reason));
        return StepStatus.Skipped;
    }

    // Whether a child starts from the step's system state (on the same backend).
    private bool KeepsSnapshot(string key, IStepBackend backend) => _graph.ChildrenOf(key).Any(child => _backends.For(child) == backend);

    // A passed cached step's output goes into the store before its children may change it, and its
    // snapshot is kept only if its entry is the one published. A leaf's workspace is never used again
    // in this run, so it may give its own overlay layer up to the entry rather than share it. Failing
    // to record costs the next run a miss, not this run its result, so it is said and not thrown.
    // True when the published entry is this run's output, so the children's own layers may stand on it.
    private async Task<bool> RecordAsync(string key, string workspace, bool leaf, StepResult result, IStepBackend backend, CancellationToken cancellation)
    {
        try
        {
            var output = new RecordedOutput(
                workspace, await _workspaces.SourceManifestAsync(cancellation), (from, to, ct) => _workspaces.PersistAsync(from, to, leaf, ct));
            if (!await _cache!.RecordAsync(key, (result.Snapshot, result.SnapshotBytes), backend.Name, output, cancellation))
            {
                _events.Publish(new StepLog(DateTimeOffset.UtcNow, key, true, "harmont: another run cached this step's result first; its entry is kept."));
                return false;
            }

            if (result.Snapshot is { } snapshot)
            {
                try
                {
                    await backend.KeepSnapshotAsync(snapshot, _cache.Plan[key].Key!, cancellation);
                }
                catch (DockerEngineException ex)
                {
                    // The entry names the image by id, so it still hits; only the readable name is missing.
                    _events.Publish(new StepLog(DateTimeOffset.UtcNow, key, true, $"harmont: cached, but its image was not tagged: {_secrets.Redact(ex.Message)}"));
                }
            }

            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _events.Publish(new StepLog(DateTimeOffset.UtcNow, key, true, $"harmont: could not cache this step's result: {_secrets.Redact(ex.Message)}"));
            return false;
        }
    }

    // An incremental step starts from its own last output plus the source delta since, the parent's claim
    // given back; null runs it clean (said why), from what a step normally starts from.
    private async Task<string?> IncrementalWorkspaceAsync(StepDefinition step, IStepBackend backend, CancellationToken cancellation)
    {
        if (!step.Incremental || _incremental is null)
        {
            return null;
        }

        var (output, why) = _incremental.Open(step.Key, backend.Name, () => _workspaces.Strategy.Name);
        if (output is null)
        {
            _events.Publish(new StepLog(DateTimeOffset.UtcNow, step.Key, true, $"harmont: incremental: clean run: {why}"));
            return null;
        }

        var workspace = await _workspaces.ForCachedParentAsync(step.Key, output.Key, output.Layers, ManifestOf(step.Key, output), cancellation, incremental: true);
        if (step.From is { } parent)
        {
            _workspaces.Release(parent);
        }

        _events.Publish(new StepLog(DateTimeOffset.UtcNow, step.Key, true, "harmont: incremental: starting from its last output and the source changed since"));
        return workspace;
    }

    // A step's cache mounts, held until it ends: a step of this run or another that shares an id waits its turn.
    private async Task<CacheMountLease?> AcquireMountsAsync(StepDefinition step, CancellationToken cancellation)
    {
        if (step.CacheMounts.Count == 0)
        {
            return null;
        }

        if (_mounts is null)
        {
            throw new InvalidOperationException($"step '{step.Key}' has cache mounts, and this run has no cache dir to keep them in.");
        }

        return await _mounts.AcquireAsync(
            step.CacheMounts, id => _events.Publish(new StepLog(DateTimeOffset.UtcNow, step.Key, true, $"harmont: waiting for cache mount '{id}', which another step is using")), cancellation);
    }

    // Failing to keep the output costs the next run a clean build, not this run its result.
    private async Task KeepIncrementalAsync(string key, string workspace, string? recorded, IStepBackend backend, CancellationToken cancellation)
    {
        try
        {
            var output = new RecordedOutput(
                workspace, await _workspaces.SourceManifestAsync(cancellation), (from, to, ct) => _workspaces.PersistAsync(from, to, lastUse: false, ct));
            await _incremental!.SaveAsync(key, backend.Name, recorded, output, cancellation);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _events.Publish(new StepLog(DateTimeOffset.UtcNow, key, true, $"harmont: could not keep this step's output for its next incremental run: {_secrets.Redact(ex.Message)}"));
        }
    }

    /// <summary>Why steps stop: the user, the build timeout, or fail-fast after a failure.</summary>
    private sealed record RunControl(CancellationTokenSource StopAll, CancellationToken BuildTimeout, CancellationToken User)
    {
        public bool BuildTimedOut => BuildTimeout.IsCancellationRequested && !User.IsCancellationRequested;

        public string Why() =>
            User.IsCancellationRequested ? "the run was cancelled"
            : BuildTimedOut ? "the build timeout passed"
            : "the run stopped after a failure";
    }

    private List<string> TopologicalOrder()
    {
        var order = new List<string>();
        var done = new HashSet<string>(StringComparer.Ordinal);
        void Visit(string key)
        {
            if (!done.Add(key))
            {
                return;
            }

            foreach (var prerequisite in PipelineGraph.Prerequisites(_graph[key]))
            {
                Visit(prerequisite);
            }

            order.Add(key);
        }

        foreach (var step in _graph.Steps)
        {
            Visit(step.Key);
        }

        return order;
    }
}
