using System.Text.RegularExpressions;

namespace Harmont.Aot.Tests;

/// <summary>The live view in a real terminal (tmux), driven and read as a person would see it.</summary>
[Property("Requires", "docker")]
[NotInParallel(nameof(TtyViewTests))]
public sealed class TtyViewTests : IDisposable
{
    private readonly string _session = $"harmont-tty-{Guid.NewGuid():N}";
    private readonly string _work = Directory.CreateTempSubdirectory("harmont-tty-").FullName;

    public void Dispose()
    {
        _ = Tmux("kill-session", "-t", _session).Result;
        Directory.Delete(_work, recursive: true);
    }

    [Test]
    public async Task Live_view_nests_steps_by_lineage_and_ends_with_the_summary()
    {
        await BusyboxImage.EnsureAsync();
        await StartAsync("smoke --runner docker -j 2");

        var screen = await WaitForScreenAsync(s => s.Contains("EXIT=", StringComparison.Ordinal));

        await Assert.That(screen).Contains("EXIT=0", StringComparison.Ordinal);
        await Assert.That(screen).Matches(@"(?m)^✓ prepare\s+\d+\.\d\ds\s*$");
        await Assert.That(screen).Matches(@"(?m)^✓   left\s+\d+\.\d\ds\s*$");
        await Assert.That(screen).Matches(@"(?m)^✓   right\s+\d+\.\d\ds\s*$");
        await Assert.That(Regex.Matches(screen, @"(?m)^✓   left\b")).HasSingleItem();
        await Assert.That(screen).Contains("harmont: pipeline 'smoke' passed", StringComparison.Ordinal);
        await Assert.That(screen).DoesNotContain("[left", StringComparison.Ordinal);
    }

    [Test]
    public async Task Running_steps_spin_survive_a_resize_and_ctrl_c_cancels_with_130(CancellationToken cancellationToken)
    {
        await BusyboxImage.EnsureAsync();
        await StartAsync("sleepy --runner host -j 2");

        var running = await WaitForScreenAsync(s => Regex.IsMatch(s, @"(?m)^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]   tick\s+\d+\.\d\ds\s+tick \d+"));
        await Assert.That(running).Matches(@"(?m)^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]   wait\s+\d+\.\d\ds\s+waiting");

        await Tmux("resize-window", "-t", _session, "-x", "40", "-y", "20");
        await Task.Delay(500, cancellationToken);
        await Tmux("resize-window", "-t", _session, "-x", "120", "-y", "30");
        await Task.Delay(500, cancellationToken);
        var resized = await Capture();
        await Assert.That(Regex.Matches(resized, @"(?m)^\S   tick\b")).HasSingleItem();
        await Assert.That(Regex.Matches(resized, @"(?m)^\S   wait\b")).HasSingleItem();
        foreach (var line in resized.Split('\n'))
        {
            await Assert.That(line.TrimEnd().Length <= 120).IsTrue().Because(line);
        }

        await Tmux("send-keys", "-t", _session, "C-c");
        var ended = await WaitForScreenAsync(s => s.Contains("EXIT=", StringComparison.Ordinal));
        await Assert.That(ended).Contains("EXIT=130", StringComparison.Ordinal);
        await Assert.That(ended).Contains("was cancelled (exit 130)", StringComparison.Ordinal);
    }

    private async Task StartAsync(string arguments)
    {
        var published = await AotSmoke.PublishedAsync();
        await Assert.That(published.ExitCode == 0).IsTrue().Because(published.Output);
        var cache = Path.Combine(_work, ".cache");

        // CI and GITHUB_ACTIONS would select plain output; a person at a terminal has neither.
        var command = $"cd {_work} && env -u CI -u GITHUB_ACTIONS HARMONT_CACHE_DIR={cache} {published.Binary} {arguments} --repo {_work}; echo EXIT=$?; sleep 120";
        var (exitCode, output) = await Tmux("new-session", "-d", "-s", _session, "-x", "120", "-y", "30", command);
        await Assert.That(exitCode == 0).IsTrue().Because(output);
    }

    private async Task<string> WaitForScreenAsync(Func<string, bool> ready)
    {
        var screen = "";
        for (var attempt = 0; attempt < 300; attempt++)
        {
            screen = await Capture();
            if (ready(screen))
            {
                return screen;
            }

            await Task.Delay(200, TestContext.Current?.Execution.CancellationToken ?? CancellationToken.None);
        }

        Assert.Fail($"the screen never got there; last capture:\n{screen}");
        return screen;
    }

    private async Task<string> Capture() => (await Tmux("capture-pane", "-p", "-t", _session)).Output;

    private static Task<(int ExitCode, string Output)> Tmux(params string[] args) =>
        Exec.RunAsync("tmux", args, Path.GetTempPath(), CancellationToken.None);
}
