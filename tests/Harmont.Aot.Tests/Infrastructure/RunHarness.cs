using Harmont.Aot.Cli;
using Harmont.Aot.Events;
using Harmont.Aot.Model;
using Harmont.Aot.Runners;

namespace Harmont.Aot.Tests;

/// <summary>A private source tree and cache directory, and a way to run a pipeline over them in-process.</summary>
internal sealed class RunHarness : IDisposable
{
    /// <param name="under">Where the harness's directory goes (a reflink filesystem, say); null: the system temp dir.</param>
    public RunHarness(string? under = null)
    {
        Root = under is null
            ? Directory.CreateTempSubdirectory("harmont-test-").FullName
            : Directory.CreateDirectory(Path.Combine(under, $"harmont-test-{Guid.NewGuid():N}")).FullName;
        Source = Directory.CreateDirectory(Path.Combine(Root, "src")).FullName;
        Cache = Path.Combine(Root, "cache");
    }

    public string Root { get; }

    public string Source { get; }

    public string Cache { get; }

    public string WorkDir => Path.Combine(Cache, "work");

    /// <summary>This harness's cache dir's name, on the engine, for the image of its entry <paramref name="key"/>.</summary>
    public string CacheReference(string key) => Harmont.Aot.Runners.Docker.DockerNames.CacheReference(Harmont.Aot.Cleanup.OwnerLock.Label(Cache), key);

    /// <summary>Run work dirs still on disk; a finished run must leave none.</summary>
    public IReadOnlyList<string> LeftoverRunDirs() => RunDirsIn(WorkDir);

    /// <summary>Mount points under this harness's root that are still mounted; a finished run must leave none.</summary>
    public IReadOnlyList<string> LeftoverMounts() =>
        [.. File.ReadLines("/proc/self/mountinfo").Select(l => l.Split(' ')[4]).Where(m => m.StartsWith(Root, StringComparison.Ordinal))];

    public static IReadOnlyList<string> RunDirsIn(string workDir) =>
        Directory.Exists(workDir) ? Directory.GetDirectories(workDir, "run-*") : [];

    /// <summary>The run's clock (ttl buckets, cache times); a test moves it with <see cref="ManualClock"/>.</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>Environment overrides seen by the run (DOCKER_HOST, say); the rest comes from the process.</summary>
    public Dictionary<string, string> Env { get; } = new(StringComparer.Ordinal);

    public void WriteSource(string relativePath, string content)
    {
        var path = Path.Combine(Source, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    public Task<RunOutcome> RunAsync(PipelineDefinition pipeline, params string[] args) => RunAsync([pipeline], ["run", .. args]);

    /// <summary>Runs the command line <paramref name="args"/> (verb included) over <paramref name="pipelines"/>.</summary>
    public async Task<RunOutcome> RunAsync(IReadOnlyList<PipelineDefinition> pipelines, string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var events = new RecordingSink();
        // CI=true unless a test says otherwise: a run then waits for its shared-cache pushes wherever the suite runs.
        string? GetEnv(string name) =>
            Env.TryGetValue(name, out var value) ? value
            : name == "HARMONT_CACHE_DIR" ? Cache
            : name == "CI" ? "true"
            : Environment.GetEnvironmentVariable(name);
        var context = new CliContext(
            output, error, Source, GetEnv, DockerConnectors.FromEnvironment(GetEnv), TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None)
        {
            Observer = events,
            Clock = Clock,
            Repository = Source,
        };
        var exitCode = await HarmontCli.RunAsync(args, pipelines, context);
        return new RunOutcome(exitCode, output.ToString(), error.ToString(), events.Snapshot());
    }

    public void Dispose()
    {
        try
        {
            // By handle: steps leave names that are not UTF-8, which System.IO cannot name.
            Harmont.Aot.Containment.HostileTree.Delete(Root);
        }
        catch (IOException)
        {
            // Best effort: a leak here is a test-machine temp dir, and the assertions already ran.
        }
    }

    private sealed class RecordingSink : IRunEventSink
    {
        private readonly Lock _gate = new();
        private readonly List<RunEvent> _events = [];

        public void Publish(RunEvent runEvent)
        {
            lock (_gate)
            {
                _events.Add(runEvent);
            }
        }

        public IReadOnlyList<RunEvent> Snapshot()
        {
            lock (_gate)
            {
                return [.. _events];
            }
        }
    }
}

/// <summary>What one run printed and emitted.</summary>
internal sealed record RunOutcome(int ExitCode, string Output, string Error, IReadOnlyList<RunEvent> Events)
{
    public IReadOnlyList<string> LogsOf(string step) =>
        [.. Events.OfType<StepLog>().Where(e => e.Step == step).Select(e => e.Line)];

    public StepStatus StatusOf(string step) =>
        Events.OfType<StepFinished>().Single(e => e.Step == step).Status;

    public bool Started(string step) => Events.OfType<StepStarted>().Any(e => e.Step == step);

    public bool Hit(string step) => Events.OfType<StepCacheHit>().Any(e => e.Step == step);

    /// <summary>Steps whose command ran in this run, in start order.</summary>
    public IReadOnlyList<string> Executed => [.. Events.OfType<StepStarted>().Select(e => e.Step)];

    public StepStarted StartOf(string step) => Events.OfType<StepStarted>().Single(e => e.Step == step);

    public StepFinished EndOf(string step) => Events.OfType<StepFinished>().Single(e => e.Step == step);

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}
