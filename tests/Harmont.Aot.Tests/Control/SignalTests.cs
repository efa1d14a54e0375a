using System.Text.RegularExpressions;
using TUnit.Assertions.Enums;

namespace Harmont.Aot.Tests;

/// <summary>Real signals to a real run of the native binary, then a look for anything it left behind.</summary>
[Property("Requires", "docker")]
// Alone, beside no other test: a second signal leaves a dead run's containers, which this class removes
// itself while any run starting beside it would be reaping them too (409 "removal already in progress").
[NotInParallel]
public sealed partial class SignalTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly string _work = Directory.CreateTempSubdirectory("harmont-signal-").FullName;

    private string Cache => Path.Combine(_work, ".cache");

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Test]
    [Arguments("INT", "docker")]
    [Arguments("TERM", "docker")]
    [Arguments("INT", "host")]
    public async Task First_signal_cancels_cleans_up_everything_and_exits_130(string signal, string runner)
    {
        await BusyboxImage.EnsureAsync();
        using var run = await StartSleepyAsync(runner);
        var runId = await RunIdOf(run.Output);

        run.Signal(signal);
        var exitCode = await run.WaitForExitAsync(Patience);

        await Assert.That(exitCode == 130).IsTrue().Because($"exit {exitCode}\n{run.Output}");
        await Assert.That(run.Output).Contains("cancelled", StringComparison.Ordinal);
        await AssertNothingLeftAsync(runId);
    }

    [Test]
    public async Task Second_signal_exits_at_once_with_130_and_the_next_run_reaps_what_it_left(CancellationToken cancellationToken)
    {
        await BusyboxImage.EnsureAsync();
        using var run = await StartSleepyAsync("docker");
        var runId = await RunIdOf(run.Output);

        // Two signals sent back to back can merge into one pending signal; the second goes once the first is seen.
        run.Signal("INT");
        await run.WaitForLineAsync(l => l.Contains("cancelling; cleaning up", StringComparison.Ordinal), Patience);
        run.Signal("INT");
        var exitCode = await run.WaitForExitAsync(Patience);

        await Assert.That(exitCode == 130).IsTrue().Because($"exit {exitCode}\n{run.Output}");

        // An exit "at once" skips cleanup; the next run's startup collection is what recovers.
        var workDir = Path.Combine(Cache, "work");
        var reaped = Cleanup.RunDirectory.CollectStale(workDir);
        await Assert.That(reaped).IsEquivalentTo((IEnumerable<string>)[Path.Combine(workDir, $"run-{runId}")], CollectionOrdering.Matching);
        await Assert.That(RunHarness.RunDirsIn(workDir)).IsEmpty();
        var mounts = await File.ReadAllTextAsync("/proc/self/mountinfo", cancellationToken);
        await Assert.That(mounts).DoesNotContain(_work, StringComparison.Ordinal);

        // Its containers outlive it (still running, so startup GC rightly leaves them): remove them here. So are the
        // images it committed: the next run of this cache would reap them, but the test deletes the cache.
        using var client = await DockerTestEngine.ConnectAsync();
        foreach (var container in await client.ListContainersAsync($"dev.harmont.aot.run={runId}", cancellationToken))
        {
            await client.RemoveContainerAsync(container.Id, cancellationToken);
        }

        foreach (var image in await client.ListImagesAsync([$"dev.harmont.aot.run={runId}"], cancellationToken))
        {
            await client.RemoveImageAsync(image.ID, force: true, cancellationToken);
        }
    }

    private async Task<LiveProcess> StartSleepyAsync(string runner)
    {
        var published = await AotSmoke.PublishedAsync();
        await Assert.That(published.ExitCode == 0).IsTrue().Because(published.Output);
        var run = new LiveProcess(published.Binary, ["sleepy", "--runner", runner, "-j", "2", "--repo", _work], _work, ("HARMONT_CACHE_DIR", Cache));
        await run.WaitForLineAsync(l => l.Contains("waiting", StringComparison.Ordinal), Patience);
        await run.WaitForLineAsync(l => l.Contains("tick 2", StringComparison.Ordinal), Patience);
        return run;
    }

    private async Task AssertNothingLeftAsync(string runId)
    {
        var workDir = Path.Combine(Cache, "work");
        await Assert.That(RunHarness.RunDirsIn(workDir)).IsEmpty();
        var mounts = await File.ReadAllTextAsync("/proc/self/mountinfo", TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
        await Assert.That(mounts).DoesNotContain(_work, StringComparison.Ordinal);

        using var client = await DockerTestEngine.ConnectAsync();
        var label = $"dev.harmont.aot.run={runId}";
        await Assert.That(await client.ContainersLeftAsync(label, TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None))
            .IsEmpty();
        await Assert.That(await client.ListImagesAsync(label, TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None)).IsEmpty();
    }

    private static async Task<string> RunIdOf(string output)
    {
        var match = RunId().Match(output);
        await Assert.That(match.Success).IsTrue().Because($"no run id in:\n{output}");
        return match.Groups[1].Value;
    }

    [GeneratedRegex(@"\(\d+ steps, run ([0-9a-f-]+)\)")]
    private static partial Regex RunId();
}
