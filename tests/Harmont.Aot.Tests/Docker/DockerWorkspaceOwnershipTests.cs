using System.Diagnostics;
using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Docker;

namespace Harmont.Aot.Tests;

// The step writes as root; the host user (here 12345:12345) must own every path afterwards, however the step ended.
[Trait("Requires", "docker")]
public sealed class DockerWorkspaceOwnershipTests : IDisposable
{
    private const string Owner = "12345:12345";
    private const string WriteTree =
        "mkdir -p a/b/c && echo x > a/b/c/f && touch top && chmod 700 a/b && ln -s a/b/c/f link && mkdir empty";

    private readonly string _runId = $"test-{Guid.NewGuid():N}";
    private readonly string _workspace = Directory.CreateTempSubdirectory("harmont-docker-owner-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_workspace, recursive: true);

    [Theory]
    [InlineData("true", 0)]
    [InlineData("exit 7", 7)]
    [InlineData("kill -9 $$", 137)]
    public async Task Every_workspace_path_belongs_to_the_owner_however_the_command_ends(string ending, int exitCode)
    {
        await BusyboxImage.EnsureAsync();
        await using var backend = await DockerTestEngine.BackendAsync(Owner);

        var result = await backend.RunAsync(Step($"{WriteTree} && {ending}"), Ct);

        Assert.Equal(exitCode, result.ExitCode);
        await AssertOwnedAsync();
    }

    [Fact]
    public async Task Cancelled_step_has_its_workspace_handed_back_by_a_helper()
    {
        await BusyboxImage.EnsureAsync();
        await using var backend = await DockerTestEngine.BackendAsync(Owner);
        using var client = await DockerTestEngine.ConnectAsync();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var invocation = Step($"{WriteTree} && echo written && sleep 60") with { Log = (_, _) => written.TrySetResult() };

        var run = backend.RunAsync(invocation, cancel.Token);
        await written.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        var clock = Stopwatch.StartNew();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"cancellation took {clock.Elapsed}");
        await AssertOwnedAsync();
        Assert.Empty(await client.ListContainersAsync($"{DockerNames.RunLabel}={_runId}", Ct));
    }

    [Fact]
    public async Task Owner_must_be_numeric()
    {
        using var client = await DockerTestEngine.ConnectAsync();

        Assert.Throws<ArgumentException>(() => new DockerBackend(client, ownsEngine: false, workspaceOwner: "me:staff"));
        Assert.Throws<ArgumentException>(() => new DockerBackend(client, ownsEngine: false, workspaceOwner: "1; rm -rf /"));
    }

    private async Task AssertOwnedAsync()
    {
        // The host's own view, not the container's: find walks without following the symlink.
        var (code, output) = await Exec.RunAsync("find", [".", "-printf", "%U:%G %p\n"], _workspace, Ct);
        Assert.Equal(0, code);
        var entries = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(
            [".", "./a", "./a/b", "./a/b/c", "./a/b/c/f", "./empty", "./link", "./top"],
            entries.Select(e => e[(e.IndexOf(' ', StringComparison.Ordinal) + 1)..]).Order(StringComparer.Ordinal));
        Assert.All(entries, e => Assert.StartsWith(Owner + " ", e, StringComparison.Ordinal));
    }

    private StepInvocation Step(string command) =>
        new(_runId, "own", command, _workspace, BusyboxImage.Image, [], KeepSnapshot: false, (_, _) => { });
}
