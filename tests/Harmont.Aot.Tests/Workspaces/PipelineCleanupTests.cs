using System.Runtime.Versioning;
using Harmont.Aot.Events;
using Harmont.Aot.Model;
using Harmont.Aot.Runners;
using Harmont.Aot.Scheduling;
using Harmont.Aot.Workspaces;

namespace Harmont.Aot.Tests.Workspaces;

/// <summary>
/// Whole runs on the host backend over each strategy: lineage and isolation hold, and a run that
/// passes, fails or is cancelled leaves no mount in /proc/self/mountinfo and nothing in the work dir.
/// </summary>
[Property("Requires", "root")]
[SupportedOSPlatform("linux")]
[NotInParallel(nameof(PipelineCleanupTests))]
[ClassDataSource<XfsLoopMount>(Shared = SharedType.PerTestSession)]
public sealed class PipelineCleanupTests(XfsLoopMount xfs)
{
    public static IEnumerable<string> Strategies => [.. WorkspaceStrategies.Names];

    private static CancellationToken Ct => TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None;

    [Test]
    [MethodDataSource(nameof(Strategies))]
    public async Task A_passing_run_hands_each_child_its_parents_output_and_leaves_nothing(string strategy)
    {
        var pipeline = Define.Pipeline(
            "ok",
            Runner.Host,
            Define.Step("build", "cat in.txt > built.txt; echo built >> built.txt; rm in.txt"),
            Define.Step("left", "test ! -e in.txt && cat built.txt && echo left > left.txt", from: "build"),
            Define.Step("right", "sleep 0.2; test ! -e left.txt && cat built.txt", from: "build"));

        var (exitCode, workDir) = await RunAsync(pipeline, strategy, CancellationToken.None);

        await Assert.That(exitCode).IsEqualTo(0);
        await Assert.That(Trees.MountsUnder(workDir)).IsEmpty();
        await Assert.That(Directory.GetFileSystemEntries(workDir)).IsEmpty();
    }

    [Test]
    [MethodDataSource(nameof(Strategies))]
    public async Task A_failing_run_leaves_no_mount_and_no_temp_dir(string strategy)
    {
        var pipeline = Define.Pipeline(
            "fails",
            Runner.Host,
            Define.Step("build", "echo built > built.txt"),
            Define.Step("broken", "echo half > half.txt; exit 3", from: "build"),
            Define.Step("slow", "sleep 30", from: "build"),
            Define.Step("after", "true", from: "broken"));

        var (exitCode, workDir) = await RunAsync(pipeline, strategy, CancellationToken.None);

        await Assert.That(exitCode).IsEqualTo(1);
        await Assert.That(Trees.MountsUnder(workDir)).IsEmpty();
        await Assert.That(Directory.GetFileSystemEntries(workDir)).IsEmpty();
    }

    [Test]
    [MethodDataSource(nameof(Strategies))]
    public async Task A_cancelled_run_leaves_no_mount_and_no_temp_dir(string strategy)
    {
        var pipeline = Define.Pipeline(
            "cancelled",
            Runner.Host,
            Define.Step("build", "echo built > built.txt"),
            Define.Step("long", "sleep 30", from: "build"));
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(2));

        var (exitCode, workDir) = await RunAsync(pipeline, strategy, cancel.Token);

        await Assert.That(exitCode).IsEqualTo(130);
        await Assert.That(Trees.MountsUnder(workDir)).IsEmpty();
        await Assert.That(Directory.GetFileSystemEntries(workDir)).IsEmpty();
    }

    private async Task<(int ExitCode, string WorkDir)> RunAsync(PipelineDefinition pipeline, string strategy, CancellationToken cancellation)
    {
        var source = xfs.NewDirectory("src");
        Trees.Write(source, "in.txt", "from source");
        var workDir = xfs.NewDirectory("work");
        var connector = new DockerConnector("none", _ => Task.FromResult<IStepBackend?>(null));
        await using var backends = await BackendSet.ResolveAsync(pipeline, Runner.Host, connector, TextWriter.Null, Ct);
        int exitCode;
        await using (var workspaces = new RunWorkspaces(Path.Combine(workDir, "run"), source, Trees.Strategy(strategy)))
        {
            var runner = new PipelineRunner(
                PipelineGraph.Build(pipeline), backends, workspaces, new RunOptions(source, workDir, 4, KeepGoing: false), new NullSink(), "run");
            exitCode = (await runner.RunAsync(cancellation)).ExitCode;
        }

        await Assert.That(await File.ReadAllTextAsync(Path.Combine(source, "in.txt"), Ct)).IsEqualTo("from source");
        return (exitCode, workDir);
    }

    private sealed class NullSink : IRunEventSink
    {
        public void Publish(RunEvent runEvent)
        {
        }
    }
}
