using Harmont.Aot.Cleanup;
using Harmont.Aot.Model;
using Harmont.Aot.Runners.Docker;
using Harmont.Aot.Runners.Host;

namespace Harmont.Aot.Runners;

/// <summary>The backends a run uses, chosen once before any step starts.</summary>
internal sealed class BackendSet : IAsyncDisposable
{
    private readonly Dictionary<string, IStepBackend> _byStep;
    private readonly IStepBackend[] _all;

    private BackendSet(Dictionary<string, IStepBackend> byStep, IStepBackend[] all)
    {
        _byStep = byStep;
        _all = all;
    }

    /// <summary>How long after one collection of crash leftovers the next run skips its own.</summary>
    public static TimeSpan GcInterval { get; } = TimeSpan.FromMinutes(10);

    /// <summary>The Docker backend, when an engine answered and it is connected (a deferred one, once a step used it).</summary>
    public DockerBackend? Docker => _all.OfType<DockerBackend>().FirstOrDefault() ?? _all.OfType<DeferredBackend>().Select(d => d.Connected).OfType<DockerBackend>().FirstOrDefault();

    /// <summary>The backend that drives the engine, connected or deferred; the cache removes evicted entries' images through it.</summary>
    public IStepBackend? Engine => _all.FirstOrDefault(b => b is DockerBackend or DeferredBackend);

    public IStepBackend For(string stepKey) => _byStep[stepKey];

    /// <summary>
    /// Resolves each step's runner: the step's own, else the command line's, else the pipeline's.
    /// <c>auto</c> means Docker when an engine answers and the host otherwise, said in one line.
    /// </summary>
    /// <param name="pipeline">The pipeline whose steps need backends.</param>
    /// <param name="commandLine">The <c>--runner</c> choice, if any.</param>
    /// <param name="docker">How to reach the engine.</param>
    /// <param name="notices">Where the choice and cleanup are said.</param>
    /// <param name="cancellationToken">Stops connecting.</param>
    /// <param name="gcStamp">
    /// A file whose age says when crash leftovers were last collected; collecting again within
    /// <see cref="GcInterval"/> is skipped, so back-to-back runs do not list the engine's every image. Null: always collect.
    /// </param>
    /// <param name="hostPaths">
    /// Where host steps' stable workspace path comes from; null runs each host step in its own workspace directory.
    /// </param>
    /// <param name="housekeeping">
    /// The run's lock and the cache: dead runs' objects are reaped at once, every time, and orphaned cache tags
    /// with the collection above. Null: neither, and the run's objects carry no lock.
    /// </param>
    /// <param name="deferred">
    /// Connect the engine when a step first uses it (<see cref="DeferredBackend"/>), where a ping can say it answers
    /// and no dead run's objects wait to be reaped; otherwise now.
    /// </param>
    public static async Task<BackendSet> ResolveAsync(
        PipelineDefinition pipeline,
        Runner? commandLine,
        DockerConnector docker,
        TextWriter notices,
        CancellationToken cancellationToken,
        string? gcStamp = null,
        HostPaths? hostPaths = null,
        EngineHousekeeping? housekeeping = null,
        bool deferred = false)
    {
        var wanted = pipeline.Steps.ToDictionary(
            s => s.Key,
            s => s.Runner != Runner.Inherit ? s.Runner : commandLine ?? (pipeline.Runner == Runner.Inherit ? Runner.Auto : pipeline.Runner),
            StringComparer.Ordinal);

        IStepBackend? dockerBackend = null;
        if (wanted.Values.Any(r => r is Runner.Auto or Runner.Docker))
        {
            string? refused = null;
            try
            {
                // A ping says whether an engine answers, which is all choosing backends and looking up hits need; the
                // engine is connected (and its housekeeping done) when a step first uses it. Dead runs' objects are
                // reaped at once, before any work dir goes.
                Task<IStepBackend?> ConnectAsync(CancellationToken ct) => ConnectHouseKeptAsync(docker, notices, gcStamp, housekeeping, ct);
                dockerBackend = deferred && housekeeping is not { DeadRuns: true } && docker.AnswersAsync is { } answers
                    ? await answers(cancellationToken)
                        ? new DeferredBackend("docker", keepsSystemState: true, async ct => await ConnectAsync(ct)
                            ?? throw new EngineUnavailableException($"the Docker engine at {docker.Endpoint} answered when the run started and no longer does"))
                        : null
                    : await ConnectAsync(cancellationToken);
            }
            catch (EngineUnavailableException ex)
            {
                refused = ex.Message;
            }

            if (dockerBackend is null)
            {
                var why = refused ?? $"no engine answered at {docker.Endpoint}";
                var said = refused ?? $"no Docker engine answered at {docker.Endpoint}";
                var fix = refused is null ? "Start one (dockerd, or systemctl start docker), point DOCKER_HOST at one, or run" : "Fix that, or run";
                var needs = wanted.Where(p => p.Value == Runner.Docker).Select(p => p.Key).ToList();
                if (needs.Count > 0)
                {
                    throw new EngineUnavailableException(
                        $"steps {string.Join(", ", needs)} need Docker, but {why}. {fix} them with --runner host.");
                }

                // An image says the step expects that system, not this machine's: running it here as
                // whoever invoked the runner could write anywhere. Only the user may say the host is fine.
                var imaged = pipeline.Steps.Where(s => wanted[s.Key] == Runner.Auto && ImageOf(pipeline, s) is not null).Select(s => s.Key).ToList();
                if (imaged.Count > 0)
                {
                    throw new EngineUnavailableException(
                        $"step{(imaged.Count == 1 ? "" : "s")} {string.Join(", ", imaged)} name{(imaged.Count == 1 ? "s" : "")} an image, but {said}, " +
                        $"and a step with an image never runs on the host unless you say so. {fix} them on the host with --runner host (or Runner = Runner.Host on the step or pipeline).");
                }

                notices.WriteLine($"harmont: {said}; running steps on the host backend.");
            }
            else
            {
                notices.WriteLine($"harmont: running steps in Docker (engine at {docker.Endpoint}).");
            }
        }

        var onHost = wanted.Values.Any(r => r is Runner.Host) || dockerBackend is null;
        var host = new HostBackend(onHost && hostPaths is not null
            ? await StableWorkspace.ResolveAsync(pipeline, hostPaths, notices, cancellationToken)
            : null);
        var byStep = wanted.ToDictionary(
            p => p.Key,
            p => p.Value is Runner.Host || dockerBackend is null ? (IStepBackend)host : dockerBackend,
            StringComparer.Ordinal);

        foreach (var step in pipeline.Steps)
        {
            if (byStep[step.Key] == dockerBackend && step.From is null && (step.Image ?? pipeline.DefaultImage) is null)
            {
                throw new PipelineException(
                    $"pipeline '{pipeline.Slug}': root step '{step.Key}' runs in Docker but has no image. " +
                    "Set [Pipeline(DefaultImage = \"...\")] or [Step(Image = \"...\")], or run it with Runner = Runner.Host.");
            }
        }

        return new BackendSet(byStep, dockerBackend is null ? [host] : [host, dockerBackend]);
    }

    // Connects, stamps the run's lock and cache on what the backend makes, reaps dead runs' objects and, at most
    // every GcInterval, collects crash leftovers; null when no engine answers.
    private static async Task<IStepBackend?> ConnectHouseKeptAsync(
        DockerConnector docker, TextWriter notices, string? gcStamp, EngineHousekeeping? housekeeping, CancellationToken cancellationToken)
    {
        var dockerBackend = await docker.ConnectAsync(cancellationToken);
        if (dockerBackend is null)
        {
            return null;
        }

        if (housekeeping is not null && dockerBackend is DockerBackend engine)
        {
            engine.RunLock = housekeeping.RunLock;
            engine.CacheLabel = housekeeping.CacheLabel;

            // The run reaps the backend when it ends, however it ends, which waits for these.
            engine.RemovesInBackground = true;
            if (housekeeping.DeadRuns)
            {
                await ReapDeadRunsAsync(engine, housekeeping, notices, cancellationToken);
            }
        }

        if (gcStamp is null || !File.Exists(gcStamp) || DateTime.UtcNow - File.GetLastWriteTimeUtc(gcStamp) > GcInterval)
        {
            await CollectGarbageAsync(dockerBackend, housekeeping, notices, cancellationToken);
            if (gcStamp is not null)
            {
                File.WriteAllBytes(gcStamp, []);
            }
        }

        return dockerBackend;
    }

    // The image a step would start from in Docker: its own, else its lineage root's, else the pipeline's.
    private static string? ImageOf(PipelineDefinition pipeline, StepDefinition step)
    {
        var byKey = pipeline.Steps.ToDictionary(s => s.Key, StringComparer.Ordinal);
        for (var (current, depth) = (step, 0); depth <= byKey.Count; depth++)
        {
            if (current.Image is { } image)
            {
                return image;
            }

            if (current.From is not { } from || !byKey.TryGetValue(from, out var parent))
            {
                break;
            }

            current = parent;
        }

        return pipeline.DefaultImage;
    }

    // Leftovers of crashed runs (stopped labelled containers, old ephemeral snapshots); nothing else on the engine.
    private static async Task CollectGarbageAsync(IStepBackend backend, EngineHousekeeping? housekeeping, TextWriter notices, CancellationToken cancellationToken)
    {
        if (backend is not DockerBackend docker)
        {
            return;
        }

        try
        {
            Say(await DockerGarbage.CollectAsync(docker.Client, DateTimeOffset.UtcNow, cancellationToken), notices);
            if (housekeeping is not null)
            {
                var orphans = await DockerGarbage.CollectOrphanTagsAsync(
                    docker.Client, housekeeping.CacheLabel, housekeeping.HasEntry, housekeeping.EntriesForImage, null, cancellationToken);
                if (orphans.Count > 0)
                {
                    notices.WriteLine($"harmont: removed {orphans.Count} cache tag(s) whose entries are gone.");
                }
            }
        }
        catch (DockerEngineException ex)
        {
            notices.WriteLine($"harmont: cleanup skipped: {ex.Message}");
        }
    }

    // Everything of this machine's dead runs, at once: a killed run's step container may still be running.
    private static async Task ReapDeadRunsAsync(DockerBackend docker, EngineHousekeeping housekeeping, TextWriter notices, CancellationToken cancellationToken)
    {
        try
        {
            Say(await DockerGarbage.ReapDeadRunsAsync(docker.Client, housekeeping.CacheLabel, housekeeping.EntriesForImage, null, cancellationToken), notices);
        }
        catch (DockerEngineException ex)
        {
            notices.WriteLine($"harmont: cleanup skipped: {ex.Message}");
        }
    }

    private static void Say(GcReport report, TextWriter notices)
    {
        if (report.RemovedContainers.Count + report.RemovedImages.Count > 0)
        {
            notices.WriteLine($"harmont: removed {report.RemovedContainers.Count} container(s) and {report.RemovedImages.Count} image(s) left by runs that ended abnormally.");
        }

        if (report.Tagged.Count > 0)
        {
            notices.WriteLine($"harmont: tagged {report.Tagged.Count} cached image(s) a run that ended abnormally had left untagged.");
        }

        foreach (var problem in report.Problems)
        {
            notices.WriteLine($"harmont: cleanup: {problem}");
        }
    }

    /// <summary>Removes every snapshot that only this run needed.</summary>
    public async Task ReapAsync(CancellationToken cancellationToken)
    {
        foreach (var backend in _all)
        {
            await backend.ReapAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var backend in _all)
        {
            await backend.DisposeAsync();
        }
    }
}
