using System.Text.RegularExpressions;

namespace Harmont.Aot.Tests;

/// <summary>A secret handed to a Docker step is on no disk once the step's container has started, even if the runner is killed.</summary>
[Property("Requires", "docker")]
// Alone, beside no other test: the killed run's container is removed here, while any run starting beside it
// would be reaping it too (409 "removal already in progress").
[NotInParallel]
public sealed partial class SecretLeftoverTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly string _secret = $"hm-leftover-{Guid.NewGuid():N}";
    private readonly RunHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Test]
    public async Task Killing_the_runner_during_a_docker_secret_step_leaves_the_secret_on_no_disk(CancellationToken cancellationToken)
    {
        await BusyboxImage.EnsureAsync();
        var published = await AotSmoke.PublishedAsync();
        await Assert.That(published.ExitCode == 0).IsTrue().Because(published.Output);
        var ir = Path.Combine(_harness.Root, "hold.json");
        await File.WriteAllTextAsync(ir, $$"""
            {"version": "0", "runner": "docker", "steps": [{"type": "command", "key": "hold", "image": "{{BusyboxImage.Image}}",
              "cmd": "echo \"holding $HM_LEFTOVER_SECRET\" && sleep 300", "secrets": {"HM_LEFTOVER_SECRET": "HM_LEFTOVER_SECRET"} } ] }
            """, cancellationToken);

        string runId;
        using (var run = new LiveProcess(
            published.Binary, ["run", "--ir", ir, "--repo", _harness.Source], _harness.Source, ("HARMONT_CACHE_DIR", _harness.Cache), ("HM_LEFTOVER_SECRET", _secret)))
        {
            await run.WaitForLineAsync(l => l.Contains("holding ***", StringComparison.Ordinal), Patience);
            runId = RunId().Match(run.Output).Groups[1].Value;

            // The step's output can arrive a moment before the runner hears that the start succeeded and
            // unlinks the file; a kill in that moment is the next test's case.
            await WaitUntilAsync(async () => (await FilesHoldingAsync(SecretsDirectory, _secret)).Count == 0, "the secrets file outlived the container's start");
            run.Signal("KILL");
            await run.WaitForExitAsync(Patience);
        }

        try
        {
            // The harness root holds the source, the cache dir and the work dir under it.
            await Assert.That(await FilesHoldingAsync(_harness.Root, _secret)).IsEmpty();
            await Assert.That(await FilesHoldingAsync(SecretsDirectory, _secret)).IsEmpty();
        }
        finally
        {
            // The killed run's container sleeps on, and its work dir waits for the next run: clean both here.
            using var client = await DockerTestEngine.ConnectAsync();
            foreach (var container in await client.ListContainersAsync($"dev.harmont.aot.run={runId}", cancellationToken))
            {
                await client.RemoveContainerAsync(container.Id, cancellationToken);
            }

            Cleanup.RunDirectory.CollectStale(_harness.WorkDir);
        }
    }

    [Test]
    public async Task A_later_run_deletes_a_secrets_file_whose_writer_was_killed_and_keeps_a_live_ones(CancellationToken cancellationToken)
    {
        // A writer killed between writing the file and starting its container; a shell stands in for it,
        // holding the file's lock as the runner does, then exec'ing into sleep so one kill ends it.
        var path = Path.Combine(SecretsDirectory, $"harmont-secrets-{Guid.NewGuid():N}.sh");
        await File.WriteAllTextAsync(path, $"HM_LEFTOVER_SECRET='{_secret}'\n", cancellationToken);
        using (var writer = new LiveProcess("sh", ["-c", $"exec 9<'{path}' && flock -x 9 && echo locked && exec sleep 300"], _harness.Root))
        {
            await writer.WaitForLineAsync(l => l == "locked", Patience);

            var whileAlive = await _harness.RunAsync(LaterRun.Definition);
            await Assert.That(whileAlive.ExitCode == 0).IsTrue().Because(whileAlive.ToString());
            await Assert.That(File.Exists(path)).IsTrue().Because("a live writer's secrets file was deleted");

            writer.Signal("KILL");
            await writer.WaitForExitAsync(Patience);
        }

        var later = await _harness.RunAsync(LaterRun.Definition);

        await Assert.That(later.ExitCode == 0).IsTrue().Because(later.ToString());
        await Assert.That(File.Exists(path)).IsFalse().Because("the dead writer's secrets file is still there");
    }

    private static string SecretsDirectory => Runners.Docker.SecretsFile.SharedMemory;

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string failure)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
        limit.CancelAfter(Patience);
        while (!await condition())
        {
            await Assert.That(limit.IsCancellationRequested).IsFalse().Because(failure);
            await Task.Delay(50, TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
        }
    }

    // grep, not File.ReadAllBytes: .NET takes a shared flock to read, and the runner holds an exclusive one.
    // -s: a file that vanishes mid-walk is no match, and prints nothing.
    private static async Task<List<string>> FilesHoldingAsync(string root, string secret)
    {
        var (_, output) = await Exec.RunAsync("grep", ["-rlsF", "--devices=skip", "--", secret, root], root, TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }

    [GeneratedRegex(@"run ([0-9a-f-]+)\)")]
    private static partial Regex RunId();
}
