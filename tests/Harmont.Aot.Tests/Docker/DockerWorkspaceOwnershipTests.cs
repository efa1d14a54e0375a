using System.Diagnostics;
using Harmont.Aot.Runners;
using Harmont.Aot.Runners.Docker;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

// The step writes as root; the host user (here 12345:12345) must own every path afterwards, however the step ended.
[Property("Requires", "docker")]
[NotInParallel(nameof(DockerWorkspaceOwnershipTests))]
public sealed class DockerWorkspaceOwnershipTests : IDisposable
{
    private const string Owner = "12345:12345";
    private const string WriteTree =
        "mkdir -p a/b/c && echo x > a/b/c/f && touch top && chmod 700 a/b && ln -s a/b/c/f link && mkdir empty";

    private readonly string _runId = $"test-{Guid.NewGuid():N}";
    private readonly string _workspace = Directory.CreateTempSubdirectory("harmont-docker-owner-").FullName;

    private static CancellationToken Ct => TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None;

    public void Dispose() => Directory.Delete(_workspace, recursive: true);

    [Test]
    [Arguments("true", 0)]
    [Arguments("exit 7", 7)]
    [Arguments("kill -9 $$", 137)]
    public async Task Every_workspace_path_belongs_to_the_owner_however_the_command_ends(string ending, int exitCode,CancellationToken cancellationToken)
    {
        await BusyboxImage.EnsureAsync();
        await using var backend = await DockerTestEngine.BackendAsync(Owner);

        var result = await backend.RunAsync(Step($"{WriteTree} && {ending}"), cancellationToken);

        await Assert.That(result.ExitCode).IsEqualTo(exitCode);
        await AssertOwnedAsync();
    }

    [Test]
    public async Task Cancelled_step_has_its_workspace_handed_back_by_a_helper(CancellationToken cancellationToken)
    {
        await BusyboxImage.EnsureAsync();
        await using var backend = await DockerTestEngine.BackendAsync(Owner);
        using var client = await DockerTestEngine.ConnectAsync();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var invocation = Step($"{WriteTree} && echo written && sleep 60") with { Log = (_, _) => written.TrySetResult() };

        var run = backend.RunAsync(invocation, cancel.Token);
        await written.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        var clock = Stopwatch.StartNew();
        await cancel.CancelAsync();

        await Assert.That(async () => await run).Throws<OperationCanceledException>();
        await Assert.That(clock.Elapsed < TimeSpan.FromSeconds(10)).IsTrue().Because($"cancellation took {clock.Elapsed}");
        await AssertOwnedAsync();
        await Assert.That(await client.ListContainersAsync($"{DockerNames.RunLabel}={_runId}", cancellationToken)).IsEmpty();
    }

    [Test]
    public async Task Owner_must_be_numeric()
    {
        using var client = await DockerTestEngine.ConnectAsync();

        await Assert.That(() => new DockerBackend(client, ownsEngine: false, workspaceOwner: "me:staff")).ThrowsExactly<ArgumentException>();
        await Assert.That(() => new DockerBackend(client, ownsEngine: false, workspaceOwner: "1; rm -rf /")).ThrowsExactly<ArgumentException>();
    }

    private async Task AssertOwnedAsync()
    {
        // The host's own view, not the container's: find walks without following the symlink.
        var (code, output) = await Exec.RunAsync("find", [".", "-printf", "%U:%G %p\n"], _workspace, Ct);
        await Assert.That(code).IsEqualTo(0);
        var entries = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        await Assert.That(entries.Select(e => e[(e.IndexOf(' ', StringComparison.Ordinal) + 1)..]).Order(StringComparer.Ordinal))
            .IsEquivalentTo((IEnumerable<string>)[".", "./a", "./a/b", "./a/b/c", "./a/b/c/f", "./empty", "./link", "./top"], CollectionOrdering.Matching);
        foreach (var e in entries)
        {
            await Assert.That(e).StartsWith(Owner + " ", StringComparison.Ordinal);
        }
    }

    private StepInvocation Step(string command) =>
        new(_runId, "own", command, _workspace, BusyboxImage.Image, [], KeepSnapshot: false, (_, _) => { });
}
