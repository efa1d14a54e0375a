using System.Text.RegularExpressions;

namespace Harmont.Aot.Tests;

/// <summary>Real signals to a real run of the native binary, then a look for anything it left behind.</summary>
[Trait("Requires", "docker")]
public sealed partial class SignalTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly string _work = Directory.CreateTempSubdirectory("harmont-signal-").FullName;

    private string Cache => Path.Combine(_work, ".cache");

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Theory]
    [InlineData("INT", "docker")]
    [InlineData("TERM", "docker")]
    [InlineData("INT", "host")]
    public async Task First_signal_cancels_cleans_up_everything_and_exits_130(string signal, string runner)
    {
        await BusyboxImage.EnsureAsync();
        using var run = await StartSleepyAsync(runner);
        var runId = RunIdOf(run.Output);

        run.Signal(signal);
        var exitCode = await run.WaitForExitAsync(Patience);

        Assert.True(exitCode == 130, $"exit {exitCode}\n{run.Output}");
        Assert.Contains("cancelled", run.Output, StringComparison.Ordinal);
        await AssertNothingLeftAsync(runId);
    }

    [Fact]
    public async Task Second_signal_exits_at_once_with_130_and_the_next_run_reaps_what_it_left()
    {
        await BusyboxImage.EnsureAsync();
        using var run = await StartSleepyAsync("docker");
        var runId = RunIdOf(run.Output);

        // Two signals sent back to back can merge into one pending signal; the second goes once the first is seen.
        run.Signal("INT");
        await run.WaitForLineAsync(l => l.Contains("cancelling; cleaning up", StringComparison.Ordinal), Patience);
        run.Signal("INT");
        var exitCode = await run.WaitForExitAsync(Patience);

        Assert.True(exitCode == 130, $"exit {exitCode}\n{run.Output}");

        // An exit "at once" skips cleanup; the next run's startup collection is what recovers.
        var workDir = Path.Combine(Cache, "work");
        var reaped = Cleanup.RunDirectory.CollectStale(workDir);
        Assert.Equal([Path.Combine(workDir, $"run-{runId}")], reaped);
        Assert.Empty(RunHarness.RunDirsIn(workDir));
        var mounts = await File.ReadAllTextAsync("/proc/self/mountinfo", TestContext.Current.CancellationToken);
        Assert.DoesNotContain(_work, mounts, StringComparison.Ordinal);

        // Its containers outlive it (still running, so startup GC rightly leaves them): remove them here.
        using var client = await DockerTestEngine.ConnectAsync();
        foreach (var container in await client.ListContainersAsync($"dev.harmont.aot.run={runId}", TestContext.Current.CancellationToken))
        {
            await client.RemoveContainerAsync(container.Id, TestContext.Current.CancellationToken);
        }
    }

    private async Task<LiveProcess> StartSleepyAsync(string runner)
    {
        var published = await AotSmoke.PublishedAsync();
        Assert.True(published.ExitCode == 0, published.Output);
        var run = new LiveProcess(published.Binary, ["sleepy", "--runner", runner, "-j", "2", "--repo", _work], _work, ("HARMONT_CACHE_DIR", Cache));
        await run.WaitForLineAsync(l => l.Contains("waiting", StringComparison.Ordinal), Patience);
        await run.WaitForLineAsync(l => l.Contains("tick 2", StringComparison.Ordinal), Patience);
        return run;
    }

    private async Task AssertNothingLeftAsync(string runId)
    {
        var workDir = Path.Combine(Cache, "work");
        Assert.Empty(RunHarness.RunDirsIn(workDir));
        var mounts = await File.ReadAllTextAsync("/proc/self/mountinfo", TestContext.Current.CancellationToken);
        Assert.DoesNotContain(_work, mounts, StringComparison.Ordinal);

        using var client = await DockerTestEngine.ConnectAsync();
        var label = $"dev.harmont.aot.run={runId}";
        Assert.Empty(await client.ListContainersAsync(label, TestContext.Current.CancellationToken));
        Assert.Empty(await client.ListImagesAsync(label, TestContext.Current.CancellationToken));
    }

    private static string RunIdOf(string output)
    {
        var match = RunId().Match(output);
        Assert.True(match.Success, $"no run id in:\n{output}");
        return match.Groups[1].Value;
    }

    [GeneratedRegex(@"\(\d+ steps, run ([0-9a-f-]+)\)")]
    private static partial Regex RunId();
}
