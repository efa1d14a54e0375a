using ConsoleAppFramework;
using Harmont.Aot.Events;
using Harmont.Aot.Model;
using Harmont.Aot.Scheduling;

namespace Harmont.Aot.Cli;

/// <summary>
/// The verbs as the parser sees them: one method each, whose parameters are the options and whose XML docs are the
/// help. Each records its exit code here rather than returning it, so the parser never sets the process-wide one;
/// what a verb throws becomes that code here, through <see cref="CliFailures"/>, and nowhere else.
/// </summary>
internal sealed class HarmontVerbs(IReadOnlyList<PipelineDefinition> pipelines, CliContext context)
{
    /// <summary>The verb's exit code; null while none has finished.</summary>
    public int? ExitCode { get; private set; }

    /// <summary>Whether a verb was called: the arguments parsed.</summary>
    public bool Started { get; private set; }

    /// <summary>Run a pipeline (the default verb).</summary>
    /// <param name="slug">The pipeline to run; may be left out when the program defines one.</param>
    /// <param name="parallelism">-j, Most steps running at once (default: the number of cores).</param>
    /// <param name="runner">Backend for steps that do not pin one: auto (Docker if an engine answers), docker or host.</param>
    /// <param name="keepGoing">-k, After a failure, let independent branches finish; only the failure's dependents are skipped.</param>
    /// <param name="format">human (live view on a terminal, plain lines elsewhere) or json (NDJSON events on stdout, nothing else).</param>
    /// <param name="logs">Plain prefixed log lines even on a terminal.</param>
    /// <param name="ir">Run a Harmont v0 IR document (render's graph form, or harmont-py's pipeline_to_json steps list) instead of this program's pipelines.</param>
    /// <param name="pipeline">-p, The pipeline, as the argument names it. With --ir, the document's name (its cache history and explain records), replacing its slug; a document with neither is named 'default'.</param>
    /// <param name="explain">After the run, say for each step whether it was a cache hit and, for a miss, which input changed since the last run.</param>
    /// <param name="repo">The source repository to build (default: the git repository the command runs in).</param>
    /// <param name="noIncremental">Run incremental steps clean, from their parent's output, as for a release build (also HARMONT_NO_INCREMENTAL=1).</param>
    /// <param name="cacheRemote">Share the step cache through an OCI registry: oci://HOST[:PORT]/REPO[?mode=read|write|read-write] (default: HARMONT_CACHE_REMOTE).</param>
    public async Task Run(
        [Argument] string? slug = null,
        int? parallelism = null,
        BackendChoice? runner = null,
        bool keepGoing = false,
        OutputFormat format = OutputFormat.Human,
        bool logs = false,
        string? ir = null,
        string? pipeline = null,
        bool explain = false,
        string? repo = null,
        string? cacheRemote = null,
        bool noIncremental = false)
    {
        if (!Enum.IsDefined(format) || (runner is { } chosen && !Enum.IsDefined(chosen)))
        {
            // The parser reads a number as an enum's value: only the names are the contract.
            await Finish(() => Usage(!Enum.IsDefined(format) ? $"--format takes human or json, not {(int)format}" : $"--runner takes auto, docker or host, not {(int)runner!}"));
            return;
        }

        var request = new RunRequest(slug, parallelism ?? Environment.ProcessorCount, ToRunner(runner), keepGoing)
        {
            Format = format,
            Logs = logs,
            Ir = ir,
            PipelineOption = pipeline,
            Explain = explain,
            Repo = repo,
            CacheRemote = cacheRemote,
            NoIncremental = noIncremental,
        };

        // Ctrl-C and SIGTERM are the run's to handle: they cancel its steps, it cleans up, and the cancel is the user's.
        using var signals = new SignalCancellation(context.Cancellation);
        var run = context with { Cancellation = signals.Token };
        await Finish(() => RunCommand.ExecuteAsync(pipelines, request, run), new FailureScope(signals.Token));
    }

    /// <summary>List the pipelines and their steps.</summary>
    public Task List() => Finish(() =>
    {
        ListCommand.Write(pipelines, context.Out);
        return ExitCodes.Passed;
    });

    /// <summary>Print a pipeline as Harmont v0 IR JSON.</summary>
    /// <param name="slug">The pipeline; may be left out when the program defines one.</param>
    public Task Render([Argument] string? slug = null) => Finish(() => RenderCommand.Execute(pipelines, slug, context));

    /// <summary>Print a pipeline as a Mermaid flowchart: lineage solid, ordering dotted.</summary>
    /// <param name="slug">The pipeline; may be left out when the program defines one.</param>
    public Task Graph([Argument] string? slug = null) => Finish(() => GraphCommand.Execute(pipelines, slug, context));

    /// <summary>Say whether each step would be a cache hit now and, for a miss, which input changed since the last run.</summary>
    /// <param name="step">The step to explain; all steps when left out.</param>
    /// <param name="pipeline">-p, The pipeline; may be left out when the program defines one. With --ir, the document's name.</param>
    /// <param name="ir">Explain a Harmont v0 IR document (as run --ir runs it) instead of one of this program's pipelines.</param>
    /// <param name="repo">The source repository (default: the git repository the command runs in).</param>
    public Task Explain([Argument] string? step = null, string? pipeline = null, string? ir = null, string? repo = null) =>
        Finish(() => ExplainCommand.ExecuteAsync(pipelines, new ExplainRequest(step, pipeline, ir, repo), context));

    /// <summary>Check this machine: which workspace strategies work for the work dir, why, and how fast; and how host steps are isolated.</summary>
    /// <param name="bench">Also time the runner's own settings (clone and hashing parallelism, hash read size, the hash memo) in the work dir, and say which it would pick there (~10 s).</param>
    public Task Doctor(bool bench = false) => Finish(() => DoctorCommand.Execute(context, bench));

    /// <summary>Per step over recent runs: hit rate, executed time, time saved by hits, hashing time, entry size, evictions needed again; then the pipeline's totals.</summary>
    /// <param name="last">How many of the newest recorded runs to read (default: all kept, HARMONT_RUNS_KEEP).</param>
    /// <param name="format">human (a table) or json.</param>
    /// <param name="pipeline">-p, The pipeline; may be left out when the program defines one. With --ir, the document's name.</param>
    /// <param name="ir">The runs of a Harmont v0 IR document (as run --ir ran it) instead of one of this program's pipelines.</param>
    /// <param name="repo">The source repository (default: the git repository the command runs in).</param>
    public Task Stats(int? last = null, OutputFormat format = OutputFormat.Human, string? pipeline = null, string? ir = null, string? repo = null) =>
        Finish(() => !Enum.IsDefined(format) ? Usage($"--format takes human or json, not {(int)format}")
            : TuningCommands.StatsAsync(pipelines, new TuningRequest(last, format == OutputFormat.Json, pipeline, ir, repo), context));

    /// <summary>Recommendations from recent runs, largest measured saving first, each with its evidence and the exact change to make.</summary>
    /// <param name="last">How many of the newest recorded runs to read (default: all kept, HARMONT_RUNS_KEEP).</param>
    /// <param name="format">human (a list) or json.</param>
    /// <param name="pipeline">-p, The pipeline; may be left out when the program defines one. With --ir, the document's name.</param>
    /// <param name="ir">The runs of a Harmont v0 IR document (as run --ir ran it) instead of one of this program's pipelines.</param>
    /// <param name="repo">The source repository (default: the git repository the command runs in).</param>
    public Task Tune(int? last = null, OutputFormat format = OutputFormat.Human, string? pipeline = null, string? ir = null, string? repo = null) =>
        Finish(() => !Enum.IsDefined(format) ? Usage($"--format takes human or json, not {(int)format}")
            : TuningCommands.TuneAsync(pipelines, new TuningRequest(last, format == OutputFormat.Json, pipeline, ir, repo), context));

    /// <summary>List entries: key, pipeline/step, size, age and last use.</summary>
    public Task CacheList() => Finish(() => CacheCommand.List(context), CacheCommand.Failures(context));

    /// <summary>Evict least-recently-used entries and cache mounts down to the size bound; what is in use stays.</summary>
    /// <param name="olderThan">Also remove entries not used for this long (7d, 12h, 30m).</param>
    /// <param name="maxSize">Size bound to evict down to (default: HARMONT_CACHE_MAX_SIZE, else 10GiB).</param>
    /// <param name="remote">Prune the shared cache in the registry instead: keep the newest --keep entries of each step.</param>
    /// <param name="keep">With --remote, how many of each step's newest entries to keep.</param>
    /// <param name="cacheRemote">With --remote, the registry: oci://HOST[:PORT]/REPO (default: HARMONT_CACHE_REMOTE).</param>
    public Task CachePrune(string? olderThan = null, string? maxSize = null, bool remote = false, int? keep = null, string? cacheRemote = null)
    {
        if (!remote)
        {
            return Finish(
                () => keep is not null || cacheRemote is not null
                    ? Usage("--keep and --cache-remote go with 'cache prune --remote'")
                    : CacheCommand.PruneAsync(context, olderThan, maxSize),
                CacheCommand.Failures(context));
        }

        return Finish(
            () => olderThan is not null || maxSize is not null
                ? Usage("'cache prune --remote' takes --keep N, not --older-than or --max-size (those prune this machine's cache)")
                : CacheRemoteCommand.PruneAsync(context, cacheRemote, keep),
            CacheRemoteCommand.PruneFailures(context));
    }

    /// <summary>Push the entries this cache still owes the shared cache (left by a run that ended before its pushes did), waiting for each.</summary>
    /// <param name="cacheRemote">The registry: oci://HOST[:PORT]/REPO (default: HARMONT_CACHE_REMOTE).</param>
    public Task CachePush(string? cacheRemote = null) => Finish(() => CacheRemoteCommand.PushAsync(context, cacheRemote));

    /// <summary>Remove every entry that no run is using.</summary>
    public Task CacheClean() => Finish(() => CacheCommand.CleanAsync(context), CacheCommand.Failures(context));

    /// <summary>Write every entry to a bundle (for CI cache services).</summary>
    /// <param name="file">The bundle to write.</param>
    public Task CacheExport([Argument] string file) => Finish(() => CacheCommand.ExportAsync(context, file), CacheCommand.Failures(context));

    /// <summary>Add the entries of a bundle; entries already present are kept.</summary>
    /// <param name="file">A bundle written by 'cache export'.</param>
    public Task CacheImport([Argument] string file) => Finish(() => CacheCommand.ImportAsync(context, file), CacheCommand.Failures(context));

    private static Runner? ToRunner(BackendChoice? choice) => choice switch
    {
        BackendChoice.Auto => Runner.Auto,
        BackendChoice.Docker => Runner.Docker,
        BackendChoice.Host => Runner.Host,
        _ => null,
    };

    // A bad option value the parser let through: the same failure, and line, as any usage error a verb finds.
    private static Task<int> Usage(string message) => Task.FromException<int>(new PipelineException($"{message}."));

    private Task Finish(Func<int> verb, FailureScope? scope = null) => Finish(() => Task.FromResult(verb()), scope);

    private async Task Finish(Func<Task<int>> verb, FailureScope? scope = null)
    {
        Started = true;
        try
        {
            ExitCode = await verb();
        }
        catch (Exception ex) when (CliFailures.Describe(ex, scope ?? new FailureScope(context.Cancellation)) is { } failure)
        {
            ExitCode = await CliFailures.ReportAsync(failure, context.Error);
        }
    }
}

/// <summary>The backends <c>run --runner</c> may choose.</summary>
internal enum BackendChoice
{
    /// <summary>Docker when an engine answers, otherwise the host.</summary>
    Auto,

    /// <summary>A container per step.</summary>
    Docker,

    /// <summary>A process per step on this machine.</summary>
    Host,
}
