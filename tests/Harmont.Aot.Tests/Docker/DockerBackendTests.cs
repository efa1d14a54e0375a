using System.Diagnostics;
using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Docker;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

[Property("Requires", "docker")]
[NotInParallel(nameof(DockerBackendTests))]
public sealed class DockerBackendTests : IDisposable
{
    private readonly string _runId = $"test-{Guid.NewGuid():N}";
    private readonly string _workspace = Directory.CreateTempSubdirectory("harmont-docker-ws-").FullName;
    private readonly List<(LogStream Stream, string Line)> _log = [];

    private string RunLabel => $"{DockerNames.RunLabel}={_runId}";

    public void Dispose() => Directory.Delete(_workspace, recursive: true);

    [Test]
    public async Task Exit_code_and_output_streams_come_back_apart(CancellationToken cancellationToken)
    {
        await using var backend = await ReadyBackendAsync();

        var result = await backend.RunAsync(Step("echo hi; echo err >&2; exit 3"), cancellationToken);

        await Assert.That(result.ExitCode).IsEqualTo(3);
        await Assert.That(result.Snapshot).IsNull();
        await Assert.That(Lines(LogStream.Stdout)).IsEquivalentTo((IEnumerable<string>)["hi"], CollectionOrdering.Matching);
        await Assert.That(Lines(LogStream.Stderr)).IsEquivalentTo((IEnumerable<string>)["err"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Workspace_is_bind_mounted_as_the_working_dir_with_the_env(CancellationToken cancellationToken)
    {
        await File.WriteAllTextAsync(Path.Combine(_workspace, "in.txt"), "from-host", cancellationToken);
        await using var backend = await ReadyBackendAsync();
        var env = new[] { KeyValuePair.Create("GREETING", "hello there"), KeyValuePair.Create("EMPTY", "") };

        var result = await backend.RunAsync(Step("pwd; cat in.txt; echo; echo \"$GREETING\"; echo made > out.txt") with { Env = env }, cancellationToken);

        await Assert.That(result.ExitCode).IsEqualTo(0);
        await Assert.That(Lines(LogStream.Stdout))
            .IsEquivalentTo((IEnumerable<string>)["/workspace", "from-host", "hello there"], CollectionOrdering.Matching);
        await Assert.That(await File.ReadAllTextAsync(Path.Combine(_workspace, "out.txt"), cancellationToken)).IsEqualTo("made\n");
    }

    [Test]
    public async Task Every_line_is_delivered_before_the_result(CancellationToken cancellationToken)
    {
        await using var backend = await ReadyBackendAsync();

        var result = await backend.RunAsync(Step("seq 1 5000; printf 'last without newline'"), cancellationToken);

        await Assert.That(result.ExitCode).IsEqualTo(0);
        await Assert.That(Lines(LogStream.Stdout).Count).IsEqualTo(5001);
        await Assert.That(Lines(LogStream.Stdout)[^1]).IsEqualTo("last without newline");
    }

    [Test]
    public async Task Snapshot_carries_system_state_to_the_next_step_and_is_reaped(CancellationToken cancellationToken)
    {
        await using var backend = await ReadyBackendAsync();
        using var client = await DockerTestEngine.ConnectAsync();

        var first = await backend.RunAsync(Step("echo marked > /etc/marker", "setup") with { KeepSnapshot = true }, cancellationToken);
        await Assert.That(first.ExitCode).IsEqualTo(0);
        await Assert.That(first.Snapshot).IsNotNull();
        await Assert.That(await client.ImageExistsAsync(first.Snapshot, cancellationToken)).IsTrue();

        var second = await backend.RunAsync(Step("cat /etc/marker", "build") with { BaseImage = first.Snapshot }, cancellationToken);
        await Assert.That(second.ExitCode).IsEqualTo(0);
        await Assert.That(Lines(LogStream.Stdout)).IsEquivalentTo((IEnumerable<string>)["marked"], CollectionOrdering.Matching);

        await Assert.That(await client.ListContainersAsync(RunLabel, cancellationToken)).IsEmpty();
        await Assert.That(await client.ListImagesAsync(RunLabel, cancellationToken)).IsNotEmpty();

        await backend.ReapAsync(cancellationToken);

        await Assert.That(await client.ListImagesAsync(RunLabel, cancellationToken)).IsEmpty();
        await Assert.That(await client.ImageExistsAsync(first.Snapshot, cancellationToken)).IsFalse();
        await Assert.That(await client.ImageExistsAsync(BusyboxImage.Image, cancellationToken)).IsTrue();
    }

    [Test]
    public async Task Failed_step_keeps_no_snapshot_and_no_container(CancellationToken cancellationToken)
    {
        await using var backend = await ReadyBackendAsync();
        using var client = await DockerTestEngine.ConnectAsync();

        var result = await backend.RunAsync(Step("touch /etc/x; exit 1") with { KeepSnapshot = true }, cancellationToken);

        await Assert.That(result.ExitCode).IsEqualTo(1);
        await Assert.That(result.Snapshot).IsNull();
        await Assert.That(await client.ListContainersAsync(RunLabel, cancellationToken)).IsEmpty();
        await Assert.That(await client.ListImagesAsync(RunLabel, cancellationToken)).IsEmpty();
    }

    [Test]
    public async Task Cancellation_stops_the_container_promptly_and_removes_it(CancellationToken cancellationToken)
    {
        await using var backend = await ReadyBackendAsync();
        using var client = await DockerTestEngine.ConnectAsync();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var invocation = Step("echo started; sleep 30; echo finished") with { Log = (_, _) => started.TrySetResult() };

        var run = backend.RunAsync(invocation, cancel.Token);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        var clock = Stopwatch.StartNew();
        await cancel.CancelAsync();

        await Assert.That(async () => await run).Throws<OperationCanceledException>();
        await Assert.That(clock.Elapsed < TimeSpan.FromSeconds(10)).IsTrue().Because($"cancellation took {clock.Elapsed}");
        await Assert.That(await client.ListContainersAsync(RunLabel, cancellationToken)).IsEmpty();
    }

    [Test]
    public async Task Missing_image_that_cannot_be_pulled_names_the_image(CancellationToken cancellationToken)
    {
        await using var backend = await DockerTestEngine.BackendAsync();
        using var client = await DockerTestEngine.ConnectAsync();
        const string Image = "harmont-test/not-here:0";

        var ex = (await Assert.That(async () => await backend.RunAsync(Step("true") with { BaseImage = Image }, cancellationToken))
            .ThrowsExactly<DockerEngineException>())!;

        await Assert.That(ex.Message).Contains($"'{Image}'", StringComparison.Ordinal);
        await Assert.That(ex.Message).Contains("could not be pulled", StringComparison.Ordinal);
        await Assert.That(await client.ListContainersAsync(RunLabel, cancellationToken)).IsEmpty();
    }

    [Test]
    public async Task Workspace_files_are_handed_back_to_the_host_owner(CancellationToken cancellationToken)
    {
        await using var backend = await ReadyBackendAsync("1234:2345");

        var write = await backend.RunAsync(Step("mkdir -p d && touch f d/g && exit 5"), cancellationToken);
        await using var plain = await DockerTestEngine.BackendAsync();
        var check = await plain.RunAsync(Step("stat -c '%n %u:%g' f d d/g"), cancellationToken);

        await Assert.That(write.ExitCode).IsEqualTo(5);
        await Assert.That(check.ExitCode).IsEqualTo(0);
        await Assert.That(Lines(LogStream.Stdout))
            .IsEquivalentTo((IEnumerable<string>)["f 1234:2345", "d 1234:2345", "d/g 1234:2345"], CollectionOrdering.Matching);
    }

    [Test]
    public async Task Backend_is_named_docker_and_connects_only_to_a_live_engine(CancellationToken cancellationToken)
    {
        await using var live = await DockerBackend.TryConnectAsync(DockerTestEngine.Endpoint, null, cancellationToken);
        var absent = await DockerBackend.TryConnectAsync(DockerHost.Parse("unix:///nonexistent/docker.sock"), null, cancellationToken);

        await Assert.That(live).IsNotNull();
        await Assert.That(live.Name).IsEqualTo("docker");
        await Assert.That(absent).IsNull();
    }

    private static async Task<DockerBackend> ReadyBackendAsync(string? workspaceOwner = null)
    {
        await BusyboxImage.EnsureAsync();
        return await DockerTestEngine.BackendAsync(workspaceOwner);
    }

    private StepInvocation Step(string command, string stepKey = "step") =>
        new(_runId, stepKey, command, _workspace, BusyboxImage.Image, [], KeepSnapshot: false, Record);

    private void Record(LogStream stream, string line)
    {
        lock (_log)
        {
            _log.Add((stream, line));
        }
    }

    private List<string> Lines(LogStream stream)
    {
        lock (_log)
        {
            return _log.Where(e => e.Stream == stream).Select(e => e.Line).ToList();
        }
    }
}
