using System.Diagnostics;
using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests;

[Trait("Requires", "docker")]
public sealed class DockerBackendTests : IDisposable
{
    private readonly string _runId = $"test-{Guid.NewGuid():N}";
    private readonly string _workspace = Directory.CreateTempSubdirectory("harmont-docker-ws-").FullName;
    private readonly List<(LogStream Stream, string Line)> _log = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string RunLabel => $"{DockerNames.RunLabel}={_runId}";

    public void Dispose() => Directory.Delete(_workspace, recursive: true);

    [Fact]
    public async Task Exit_code_and_output_streams_come_back_apart()
    {
        await using var backend = await ReadyBackendAsync();

        var result = await backend.RunAsync(Step("echo hi; echo err >&2; exit 3"), Ct);

        Assert.Equal(3, result.ExitCode);
        Assert.Null(result.Snapshot);
        Assert.Equal(["hi"], Lines(LogStream.Stdout));
        Assert.Equal(["err"], Lines(LogStream.Stderr));
    }

    [Fact]
    public async Task Workspace_is_bind_mounted_as_the_working_dir_with_the_env()
    {
        await File.WriteAllTextAsync(Path.Combine(_workspace, "in.txt"), "from-host", Ct);
        await using var backend = await ReadyBackendAsync();
        var env = new[] { KeyValuePair.Create("GREETING", "hello there"), KeyValuePair.Create("EMPTY", "") };

        var result = await backend.RunAsync(Step("pwd; cat in.txt; echo; echo \"$GREETING\"; echo made > out.txt") with { Env = env }, Ct);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(["/workspace", "from-host", "hello there"], Lines(LogStream.Stdout));
        Assert.Equal("made\n", await File.ReadAllTextAsync(Path.Combine(_workspace, "out.txt"), Ct));
    }

    [Fact]
    public async Task Every_line_is_delivered_before_the_result()
    {
        await using var backend = await ReadyBackendAsync();

        var result = await backend.RunAsync(Step("seq 1 5000; printf 'last without newline'"), Ct);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(5001, Lines(LogStream.Stdout).Count);
        Assert.Equal("last without newline", Lines(LogStream.Stdout)[^1]);
    }

    [Fact]
    public async Task Snapshot_carries_system_state_to_the_next_step_and_is_reaped()
    {
        await using var backend = await ReadyBackendAsync();
        using var client = await DockerTestEngine.ConnectAsync();

        var first = await backend.RunAsync(Step("echo marked > /etc/marker", "setup") with { KeepSnapshot = true }, Ct);
        Assert.Equal(0, first.ExitCode);
        Assert.NotNull(first.Snapshot);
        Assert.True(await client.ImageExistsAsync(first.Snapshot, Ct));

        var second = await backend.RunAsync(Step("cat /etc/marker", "build") with { BaseImage = first.Snapshot }, Ct);
        Assert.Equal(0, second.ExitCode);
        Assert.Equal(["marked"], Lines(LogStream.Stdout));

        Assert.Empty(await client.ListContainersAsync(RunLabel, Ct));
        Assert.NotEmpty(await client.ListImagesAsync(RunLabel, Ct));

        await backend.ReapAsync(Ct);

        Assert.Empty(await client.ListImagesAsync(RunLabel, Ct));
        Assert.False(await client.ImageExistsAsync(first.Snapshot, Ct));
        Assert.True(await client.ImageExistsAsync(BusyboxImage.Image, Ct));
    }

    [Fact]
    public async Task Failed_step_keeps_no_snapshot_and_no_container()
    {
        await using var backend = await ReadyBackendAsync();
        using var client = await DockerTestEngine.ConnectAsync();

        var result = await backend.RunAsync(Step("touch /etc/x; exit 1") with { KeepSnapshot = true }, Ct);

        Assert.Equal(1, result.ExitCode);
        Assert.Null(result.Snapshot);
        Assert.Empty(await client.ListContainersAsync(RunLabel, Ct));
        Assert.Empty(await client.ListImagesAsync(RunLabel, Ct));
    }

    [Fact]
    public async Task Cancellation_stops_the_container_promptly_and_removes_it()
    {
        await using var backend = await ReadyBackendAsync();
        using var client = await DockerTestEngine.ConnectAsync();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var invocation = Step("echo started; sleep 30; echo finished") with { Log = (_, _) => started.TrySetResult() };

        var run = backend.RunAsync(invocation, cancel.Token);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        var clock = Stopwatch.StartNew();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"cancellation took {clock.Elapsed}");
        Assert.Empty(await client.ListContainersAsync(RunLabel, Ct));
    }

    [Fact]
    public async Task Missing_image_that_cannot_be_pulled_names_the_image()
    {
        await using var backend = await DockerTestEngine.BackendAsync();
        using var client = await DockerTestEngine.ConnectAsync();
        const string Image = "harmont-test/not-here:0";

        var ex = await Assert.ThrowsAsync<DockerEngineException>(() => backend.RunAsync(Step("true") with { BaseImage = Image }, Ct));

        Assert.Contains($"'{Image}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("could not be pulled", ex.Message, StringComparison.Ordinal);
        Assert.Empty(await client.ListContainersAsync(RunLabel, Ct));
    }

    [Fact]
    public async Task Workspace_files_are_handed_back_to_the_host_owner()
    {
        await using var backend = await ReadyBackendAsync("1234:2345");

        var write = await backend.RunAsync(Step("mkdir -p d && touch f d/g && exit 5"), Ct);
        await using var plain = await DockerTestEngine.BackendAsync();
        var check = await plain.RunAsync(Step("stat -c '%n %u:%g' f d d/g"), Ct);

        Assert.Equal(5, write.ExitCode);
        Assert.Equal(0, check.ExitCode);
        Assert.Equal(["f 1234:2345", "d 1234:2345", "d/g 1234:2345"], Lines(LogStream.Stdout));
    }

    [Fact]
    public async Task Backend_is_named_docker_and_connects_only_to_a_live_engine()
    {
        await using var live = await DockerBackend.TryConnectAsync(DockerTestEngine.Endpoint, null, Ct);
        var absent = await DockerBackend.TryConnectAsync(DockerHost.Parse("unix:///nonexistent/docker.sock"), null, Ct);

        Assert.NotNull(live);
        Assert.Equal("docker", live.Name);
        Assert.Null(absent);
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
