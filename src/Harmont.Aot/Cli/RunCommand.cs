using Harmont.Aot.Cache;
using Harmont.Aot.Cache.Remote;
using Harmont.Aot.Cleanup;
using Harmont.Aot.Events;
using Harmont.Aot.Ir;
using Harmont.Aot.Keys;
using Harmont.Aot.Model;
using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Docker;
using Harmont.Aot.Runners.Host;
using Harmont.Aot.Scheduling;
using Harmont.Aot.Tuning;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Cli;

/// <summary><c>run [pipeline]</c>: executes one pipeline of this program.</summary>
internal static class RunCommand
{
    /// <summary>Runs the pipeline <paramref name="request"/> names; returns the exit code.</summary>
    /// <param name="pipelines">This program's pipelines.</param>
    /// <param name="request">The run's options, as the command line gave them.</param>
    /// <param name="context">Its <see cref="CliContext.Cancellation"/> is the user's Ctrl-C: the run stops its steps and cleans up.</param>
    internal static async Task<int> ExecuteAsync(IReadOnlyList<PipelineDefinition> pipelines, RunRequest request, CliContext context)
    {
        var cancellation = context.Cancellation;
        if (request.Parallelism < 1)
        {
            throw new PipelineException($"--parallelism must be at least 1, not {request.Parallelism}.");
        }

        var sourceRoot = SourceRepository.Resolve(request.Repo, context);
        var pipeline = IrSource.Choose(pipelines, request.Ir, IrSource.Name(request.Pipeline, request.PipelineOption), sourceRoot, context);
        var secrets = StepSecrets.Resolve(pipeline, context.GetEnv);
        var graph = PipelineGraph.Build(pipeline);
        var directories = UsableDirectories.Prepare(context.GetEnv);
        var remoteSetting = RemoteCacheSetting.Resolve(request.CacheRemote, context.GetEnv);
        // Read now, so a bad bound is a usage error before anything runs, not after the steps passed.
        var maxBytes = CacheCommand.MaxBytes(context, null);
        var keepRuns = RunHistory.Keep(context.GetEnv);
        var runId = NewRunId();
        var options = new RunOptions(sourceRoot, directories.Work, request.Parallelism, request.KeepGoing) { PhaseLog = StepPhaseLog.FromEnvironment(context.GetEnv) };

        using var runDirectory = RunDirectory.Claim(options.WorkRoot, runId);
        var store = new CacheStore(directories.Cache, context.Clock);

        // Dead runs' secrets files are locked by nobody, this run's from their creation: collected beside the run.
        _ = Task.Run(() => SecretsFile.CollectStale());

        // Keys are hashed while the engine is reached: one is CPU, the other waiting.
        var imageOwners = new Lazy<IReadOnlyDictionary<string, IReadOnlyList<string>>>(store.ImageOwners);
        var housekeeping = new EngineHousekeeping(
            OwnerLock.Label(runDirectory.LockPath), OwnerLock.Label(store.Root), id => imageOwners.Value.GetValueOrDefault(id) ?? [], store.Contains)
        {
            DeadRuns = RunDirectory.AnyStale(options.WorkRoot),
        };
        async Task<BackendSet> ResolveBackendsAsync()
        {
            var resolved = await BackendSet.ResolveAsync(
                pipeline, request.Runner, context.Docker, context.Error, cancellation, Path.Combine(options.WorkRoot, ".docker-gc"),
                new HostPaths(options.WorkRoot, options.SourceRoot, context.GetEnv), housekeeping, deferred: remoteSetting is null);
            if (pipeline.Steps.Any(s => s.Cache.Count > 0))
            {
                // The engine lists its cached images while the keys are still being hashed.
                resolved.Docker?.PrefetchSnapshots();
            }

            return resolved;
        }

        // On the pool: the ping's socket set-up is the first of its kind in the process, and planning need not wait for it.
        var backendsTask = Task.Run(ResolveBackendsAsync);
        CachePlan plan;
        var planning = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            using (NoGcRegion.EnterFor(CachePlanning.MemoPath(directories.Cache)))
            {
                plan = await CachePlanning.PlanAsync(pipeline, options.SourceRoot, directories.Cache, context.GetEnv, context.Clock, cancellation);
            }
        }
        catch
        {
            await DisposeQuietlyAsync(backendsTask);
            throw;
        }

        planning.Stop();
        await using var backends = await backendsTask;

        // After the engine has reaped dead runs' containers: one still running writes into its work dir.
        await CollectLeftoversAsync(options.WorkRoot, store, context.Error);
        var recordPath = RunRecord.PathFor(directories.Cache, plan.Project, pipeline.Slug);
        // Read beside the steps (its file table can be big), since only the end of the run needs it.
        var loadPrevious = Task.Run(() => RunRecord.Load(recordPath));
        await using var remote = OpenRemote(remoteSetting, store, backends, context);
        if (remote is not null && OperatingSystem.IsLinux())
        {
            remote.ResumeOwed(); // What an earlier run left owed goes up beside this one.
        }

        using var cache = new StepCache(store, plan, context.Clock, remote);
        var incremental = pipeline.Steps.Any(s => s.Incremental)
            ? new IncrementalOutputs(directories.Cache, pipeline, cache, request.NoIncremental || IsSet(context.GetEnv("HARMONT_NO_INCREMENTAL")))
            : null;
        // Probed when the first workspace is made, so a fully cached run never probes; a strategy the
        // user forces is checked now, so an unusable one stops the run before anything starts.
        IWorkspaceStrategy Probe() => WorkspaceStrategies.ForWorkDir(directories.Work, context.GetEnv, context.Error);
        var strategy = string.IsNullOrWhiteSpace(context.GetEnv(WorkspaceStrategies.EnvironmentVariable))
            ? new Lazy<IWorkspaceStrategy>(Probe)
            : new Lazy<IWorkspaceStrategy>(Probe());
        // Source manifests hash every source file: planning's hashes are reused, and the memo saves the rest.
        SourceHashes? runHashes = null;
        SourceHashes HashesFor(IReadOnlyList<string> files) =>
            runHashes ??= plan.Hashes ?? new SourceHashes(options.SourceRoot, files, FileHashMemo.Load(CachePlanning.MemoPath(directories.Cache)));
        await using var workspaces = new RunWorkspaces(runDirectory.Path, options.SourceRoot, strategy, plan.SourceFiles, HashesFor);
        var display = OutputMode.Create(request.Format, request.Logs, context.Out, context.IsTerminal, context.GetEnv);
        using var disposeDisplay = display as IDisposable;
        var renderer = context.Observer is { } observer ? new TeeSink(display, observer) : display;

        try
        {
            var timings = new RunTimings { Planning = planning.Elapsed };
            var result = await new PipelineRunner(
                graph, backends, workspaces, options, renderer, runId, secrets, cache, incremental, new CacheMountStore(directories.Cache, context.Clock), timings).RunAsync(cancellation);
            if (remote is not null && await remote.DrainAsync() is { } moved)
            {
                await context.Error.WriteLineAsync(moved + HandOver(remote, directories.Cache, context));
            }

            var previous = await loadPrevious;
            var record = await RecordFacts.CompleteAsync(
                RunRecord.From(runId, context.Clock.GetUtcNow(), plan, cache.Outcomes), previous, pipeline, timings, cache.Recorded, new RunFacts
                {
                    Project = plan.Project,
                    WallMs = Math.Round(timings.Now.TotalMilliseconds, 1),
                    Parallelism = request.Parallelism,
                    Cores = Environment.ProcessorCount,
                    Strategy = strategy.IsValueCreated ? strategy.Value.Name : null,
                    WorkDir = directories.Work,
                    CacheDir = directories.Cache,
                    SameFileSystem = FileSystems.Same(directories.Work, directories.Cache),
                    MaxBytes = maxBytes,
                    ExitCode = result.ExitCode,
                });
            if (request.Explain)
            {
                // On stdout with human output; with --format json stdout is NDJSON only.
                var explanation = request.Format == OutputFormat.Json ? context.Error : context.Out;
                await explanation.WriteAsync(CacheExplainer.Describe(record, previous, pipeline.Steps.Select(s => s.Key), plan.Project));
                foreach (var warning in cache.Warnings)
                {
                    await explanation.WriteLineAsync($"warning: {warning}");
                }
            }

            SaveRecord(record, recordPath, keepRuns, context.Error);
            return result.ExitCode;
        }
        finally
        {
            await ReapQuietlyAsync(backends, context.Error);
            cache.Dispose();
            runHashes?.SaveMemo();

            // Only a run that added entries can have pushed the store past its bound; a fully cached
            // run skips reading every entry.
            if (cache.Published > 0 || pipeline.Steps.Any(s => s.CacheMounts.Count > 0))
            {
                await CachePlanning.EvictAsync(store, maxBytes, backends.Engine, context.Error);
            }
        }
    }

    internal static PipelineDefinition Select(IReadOnlyList<PipelineDefinition> pipelines, string? slug)
    {
        if (pipelines.Count == 0)
        {
            throw new PipelineException("this program defines no pipeline. Add a static partial class marked [Pipeline(\"name\")] with [Step] methods.");
        }

        if (slug is null)
        {
            return pipelines.Count == 1
                ? pipelines[0]
                : throw new PipelineException(
                    $"this program defines {pipelines.Count} pipelines ({string.Join(", ", pipelines.Select(p => p.Slug))}); name the one to run, e.g. 'run {pipelines[0].Slug}'.");
        }

        return pipelines.FirstOrDefault(p => p.Slug == slug)
            ?? throw new PipelineException($"no pipeline named '{slug}'. This program defines: {string.Join(", ", pipelines.Select(p => p.Slug))}.");
    }

    // Pushes a run that does not wait left owed go on in a detached 'cache push' of this same program, or with the next run.
    private static string HandOver(RemoteCache remote, string cacheDir, CliContext context)
    {
        if (remote.Setting.WaitForPushes || remote.Owed == 0)
        {
            return "";
        }

        return DetachedUploader.Start(context, remote.Setting, cacheDir) is { } log
            ? $"; they go on in the background (log: {log})"
            : "; the next run, or 'cache push', finishes them";
    }

    // The shared cache, when one is set: its warning comes from pushes in the background, so it is written under a lock.
    private static RemoteCache? OpenRemote(RemoteCacheSetting? setting, CacheStore store, BackendSet backends, CliContext context)
    {
        if (setting is null)
        {
            return null;
        }

        if (!OperatingSystem.IsLinux())
        {
            context.Error.WriteLine("harmont: warning: the remote cache needs Linux (entries are read and written by handle); using the local cache only.");
            return null;
        }

        var client = new RegistryClient(setting, new RegistryCredentials(context.GetEnv));
        var images = backends.Docker is { } docker ? new DockerRemoteImages(docker.Client, OwnerLock.Label(store.Root)) : null;
        return new RemoteCache(client, store, images, line =>
        {
            lock (context.Error)
            {
                context.Error.WriteLine(line);
            }
        });
    }

    // What runs and cache writers that died (killed, crashed) left on disk goes at once; one that will not go is said, not fatal.
    private static async Task CollectLeftoversAsync(string workRoot, CacheStore store, TextWriter notices)
    {
        var problems = new List<string>();
        var stale = RunDirectory.CollectStale(workRoot, problems);
        if (stale.Count > 0)
        {
            await notices.WriteLineAsync($"harmont: removed {stale.Count} work dir(s) left by runs that ended abnormally.");
        }

        var staging = store.SweepStaging(problems);
        if (staging > 0)
        {
            await notices.WriteLineAsync($"harmont: removed {staging} cache staging dir(s) left by writers that ended abnormally.");
        }

        foreach (var problem in problems)
        {
            await notices.WriteLineAsync($"harmont: cleanup: {problem}");
        }
    }

    // What the run's own reaping leaves carries its lock, and the next run takes it: said, never the run's result.
    private static async Task ReapQuietlyAsync(BackendSet backends, TextWriter notices)
    {
        try
        {
            await backends.ReapAsync(CancellationToken.None);
        }
        catch (AggregateException ex)
        {
            foreach (var inner in ex.InnerExceptions)
            {
                await notices.WriteLineAsync($"harmont: cleanup: {inner.Message}");
            }
        }
        catch (Exception ex) when (ex is DockerEngineException or IOException)
        {
            await notices.WriteLineAsync($"harmont: cleanup: {ex.Message}");
        }
    }

    // Planning failed: the engine connection made beside it is closed, and its own failure, if any, is not the news.
    private static async Task DisposeQuietlyAsync(Task<BackendSet> backends)
    {
        try
        {
            await (await backends).DisposeAsync();
        }
#pragma warning disable CA1031 // The planning error is the one to report.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    // The record only feeds explain, stats and tune: failing to write it is said, not fatal.
    private static void SaveRecord(RunRecord record, string path, int keep, TextWriter error)
    {
        try
        {
            record.Save(path);
            RunHistory.Append(record, path, keep);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"harmont: could not record this run for explain, stats and tune: {ex.Message}");
        }
    }

    // An environment switch is on unless unset, empty, 0 or false.
    private static bool IsSet(string? value) =>
        !string.IsNullOrWhiteSpace(value) && value.Trim() is not "0" && !value.Trim().Equals("false", StringComparison.OrdinalIgnoreCase);

    private static string NewRunId() =>
        $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid():N}"[..22];
}

/// <summary>What <c>run</c> was asked to do.</summary>
internal sealed record RunRequest(string? Pipeline, int Parallelism, Runner? Runner, bool KeepGoing)
{
    /// <summary>Human output, or NDJSON events only.</summary>
    public OutputFormat Format { get; init; } = OutputFormat.Human;

    /// <summary>Plain log lines even on a terminal.</summary>
    public bool Logs { get; init; }

    /// <summary>Path of a Harmont v0 IR document to run instead of a compiled pipeline.</summary>
    public string? Ir { get; init; }

    /// <summary><c>--pipeline</c>: the same as <see cref="Pipeline"/>; with <see cref="Ir"/>, the document's pipeline name.</summary>
    public string? PipelineOption { get; init; }

    /// <summary>Say after the run why each step hit or missed the cache.</summary>
    public bool Explain { get; init; }

    /// <summary><c>--repo</c>: the source repository, when not the one the command runs in.</summary>
    public string? Repo { get; init; }

    /// <summary><c>--no-incremental</c>: incremental steps run clean; <c>HARMONT_NO_INCREMENTAL</c> says the same.</summary>
    public bool NoIncremental { get; init; }

    /// <summary><c>--cache-remote</c>: the shared cache (<c>oci://HOST[:PORT]/REPO</c>); null falls back to <c>HARMONT_CACHE_REMOTE</c>.</summary>
    public string? CacheRemote { get; init; }
}
